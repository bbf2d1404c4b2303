package main

// The route table of dockerd: every method and path template its routers
// register, in registration order (mux answers with the first route that
// matches), from Docker 20.10 to current moby (29.x, API 1.55). Only the
// method/pattern list is written here, no moby code.
//
// Sources: 20.10 is Debian's golang-github-docker-docker-dev
// (/usr/share/gocode/src/github.com/docker/docker/api/server/router/*/*.go and
// api/server/server.go); current is moby/moby's daemon/server/router/*/*.go
// and daemon/server/server.go (formerly api/server/router/).
//
// Registration (server.go, both eras): for each router in order, each route
// is registered twice, m.Path("/v{version:[0-9.]+}" + path).Methods(method)
// and then m.Path(path).Methods(method), on a plain mux.NewRouter(); then a
// catch-all "/v{version:[0-9.]+}/{path:.*}" (any method) answers 404, and so
// do the NotFound and MethodNotAllowed handlers.
//
// Router order (cmd/dockerd/daemon.go initRouter in 20.10; daemon/command
// buildRouters today): checkpoint (before container, "or the DELETE gets
// masked"), container, image, system, volume, build, session, swarm, plugin,
// distribution, then grpc and network (order between those two differs by
// release; they share no path), then debug.

const (
	in2010    = 1 << iota // registered by Docker 20.10
	inCurrent             // registered by current moby (29.x)
	both      = in2010 | inCurrent
)

type route struct {
	Method string // "" = any method (20.10's debug routes have no Methods())
	Path   string // mux template, without the version prefix
	Eras   int    // in2010, inCurrent or both
	Bare   bool   // registered only without the version prefix (20.10's debug routes)
	Note   string // what changed after 20.10, or why the route is special
}

var routes = []route{
	// checkpoint (experimental: the route is registered and matched in every
	// daemon; without --experimental its handler answers an error)
	{"GET", "/containers/{name:.*}/checkpoints", both, false, "experimental"},
	{"POST", "/containers/{name:.*}/checkpoints", both, false, "experimental"},
	{"DELETE", "/containers/{name}/checkpoints/{checkpoint}", both, false, "experimental; {name} without a regexp: no slash"},

	// container
	{"HEAD", "/containers/{name:.*}/archive", both, false, ""},
	{"GET", "/containers/json", both, false, ""},
	{"GET", "/containers/{name:.*}/export", both, false, ""},
	{"GET", "/containers/{name:.*}/changes", both, false, ""},
	{"GET", "/containers/{name:.*}/json", both, false, ""},
	{"GET", "/containers/{name:.*}/top", both, false, ""},
	{"GET", "/containers/{name:.*}/logs", both, false, ""},
	{"GET", "/containers/{name:.*}/stats", both, false, ""},
	{"GET", "/containers/{name:.*}/attach/ws", both, false, ""},
	{"GET", "/exec/{id:.*}/json", both, false, "container router"},
	{"GET", "/containers/{name:.*}/archive", both, false, ""},
	{"POST", "/containers/create", both, false, ""},
	{"POST", "/containers/{name:.*}/kill", both, false, ""},
	{"POST", "/containers/{name:.*}/pause", both, false, ""},
	{"POST", "/containers/{name:.*}/unpause", both, false, ""},
	{"POST", "/containers/{name:.*}/restart", both, false, ""},
	{"POST", "/containers/{name:.*}/start", both, false, ""},
	{"POST", "/containers/{name:.*}/stop", both, false, ""},
	{"POST", "/containers/{name:.*}/wait", both, false, ""},
	{"POST", "/containers/{name:.*}/resize", both, false, ""},
	{"POST", "/containers/{name:.*}/attach", both, false, ""},
	{"POST", "/containers/{name:.*}/copy", in2010, false, "removed after 20.10 (errored since API 1.24; no longer registered in current moby)"},
	{"POST", "/containers/{name:.*}/exec", both, false, ""},
	{"POST", "/exec/{name:.*}/start", both, false, "container router"},
	{"POST", "/exec/{name:.*}/resize", both, false, "container router"},
	{"POST", "/containers/{name:.*}/rename", both, false, ""},
	{"POST", "/containers/{name:.*}/update", both, false, ""},
	{"POST", "/containers/prune", both, false, ""},
	{"POST", "/commit", both, false, "container router"},
	{"PUT", "/containers/{name:.*}/archive", both, false, ""},
	{"DELETE", "/containers/{name:.*}", both, false, ""},

	// image
	{"GET", "/images/json", both, false, ""},
	{"GET", "/images/search", both, false, ""},
	{"GET", "/images/get", both, false, ""},
	{"GET", "/images/{name:.*}/get", both, false, ""},
	{"GET", "/images/{name:.*}/history", both, false, ""},
	{"GET", "/images/{name:.*}/json", both, false, ""},
	{"GET", "/images/{name:.*}/attestations", inCurrent, false, "added after 20.10: API 1.55 (moby#52636)"},
	{"POST", "/images/load", both, false, ""},
	{"POST", "/images/create", both, false, ""},
	{"POST", "/images/{name:.*}/push", both, false, ""},
	{"POST", "/images/{name:.*}/tag", both, false, ""},
	{"POST", "/images/prune", both, false, ""},
	{"DELETE", "/images/{name:.*}", both, false, ""},

	// system
	{"OPTIONS", "/{anyroute:.*}", both, false, "every OPTIONS request: an empty 200"},
	{"GET", "/_ping", both, false, ""},
	{"HEAD", "/_ping", both, false, ""},
	{"GET", "/events", both, false, ""},
	{"GET", "/info", both, false, ""},
	{"GET", "/version", both, false, ""},
	{"GET", "/system/df", both, false, ""},
	{"POST", "/auth", both, false, ""},

	// volume
	{"GET", "/volumes", both, false, ""},
	{"GET", "/volumes/{name:.*}", both, false, ""},
	{"POST", "/volumes/create", both, false, ""},
	{"POST", "/volumes/prune", both, false, ""},
	{"PUT", "/volumes/{name:.*}", inCurrent, false, "added after 20.10: API 1.42 / Docker 23.0 (cluster volume update)"},
	{"DELETE", "/volumes/{name:.*}", both, false, ""},

	// build
	{"POST", "/build", both, false, ""},
	{"POST", "/build/prune", both, false, ""},
	{"POST", "/build/cancel", both, false, ""},

	// session (deprecated in API 1.53, still registered)
	{"POST", "/session", both, false, ""},

	// swarm
	{"POST", "/swarm/init", both, false, ""},
	{"POST", "/swarm/join", both, false, ""},
	{"POST", "/swarm/leave", both, false, ""},
	{"GET", "/swarm", both, false, ""},
	{"GET", "/swarm/unlockkey", both, false, ""},
	{"POST", "/swarm/update", both, false, ""},
	{"POST", "/swarm/unlock", both, false, ""},
	{"GET", "/services", both, false, ""},
	{"GET", "/services/{id}", both, false, ""},
	{"POST", "/services/create", both, false, ""},
	{"POST", "/services/{id}/update", both, false, ""},
	{"DELETE", "/services/{id}", both, false, ""},
	{"GET", "/services/{id}/logs", both, false, ""},
	{"GET", "/nodes", both, false, ""},
	{"GET", "/nodes/{id}", both, false, ""},
	{"DELETE", "/nodes/{id}", both, false, ""},
	{"POST", "/nodes/{id}/update", both, false, ""},
	{"GET", "/tasks", both, false, ""},
	{"GET", "/tasks/{id}", both, false, ""},
	{"GET", "/tasks/{id}/logs", both, false, ""},
	{"GET", "/secrets", both, false, ""},
	{"POST", "/secrets/create", both, false, ""},
	{"DELETE", "/secrets/{id}", both, false, ""},
	{"GET", "/secrets/{id}", both, false, ""},
	{"POST", "/secrets/{id}/update", both, false, ""},
	{"GET", "/configs", both, false, ""},
	{"POST", "/configs/create", both, false, ""},
	{"DELETE", "/configs/{id}", both, false, ""},
	{"GET", "/configs/{id}", both, false, ""},
	{"POST", "/configs/{id}/update", both, false, ""},

	// plugin
	{"GET", "/plugins", both, false, ""},
	{"GET", "/plugins/{name:.*}/json", both, false, ""},
	{"GET", "/plugins/privileges", both, false, ""},
	{"DELETE", "/plugins/{name:.*}", both, false, ""},
	{"POST", "/plugins/{name:.*}/enable", both, false, ""},
	{"POST", "/plugins/{name:.*}/disable", both, false, ""},
	{"POST", "/plugins/pull", both, false, ""},
	{"POST", "/plugins/{name:.*}/push", both, false, ""},
	{"POST", "/plugins/{name:.*}/upgrade", both, false, ""},
	{"POST", "/plugins/{name:.*}/set", both, false, ""},
	{"POST", "/plugins/create", both, false, ""},

	// distribution
	{"GET", "/distribution/{name:.*}/json", both, false, ""},

	// grpc (BuildKit; deprecated in API 1.53, still registered)
	{"POST", "/grpc", both, false, ""},

	// network
	{"GET", "/networks", both, false, ""},
	{"GET", "/networks/", both, false, ""},
	{"GET", "/networks/{id:.+}", both, false, ""},
	{"POST", "/networks/create", both, false, ""},
	{"POST", "/networks/{id:.*}/connect", both, false, ""},
	{"POST", "/networks/{id:.*}/disconnect", both, false, ""},
	{"POST", "/networks/prune", both, false, ""},
	{"DELETE", "/networks/{id:.*}", both, false, ""},

	// debug. 20.10 registers "/debug"+path with no method and no version
	// prefix; since Docker 28.0 (moby#49051) they are ordinary GET routes.
	{"", "/debug/vars", in2010, true, "20.10 form: any method, no version prefix"},
	{"", "/debug/pprof/", in2010, true, "20.10 form: any method, no version prefix"},
	{"", "/debug/pprof/cmdline", in2010, true, "20.10 form: any method, no version prefix"},
	{"", "/debug/pprof/profile", in2010, true, "20.10 form: any method, no version prefix"},
	{"", "/debug/pprof/symbol", in2010, true, "20.10 form: any method, no version prefix"},
	{"", "/debug/pprof/trace", in2010, true, "20.10 form: any method, no version prefix"},
	{"", "/debug/pprof/{name}", in2010, true, "20.10 form: any method, no version prefix"},
	{"GET", "/debug/vars", inCurrent, false, "GET route since Docker 28.0 (moby#49051)"},
	{"GET", "/debug/pprof/", inCurrent, false, "GET route since Docker 28.0 (moby#49051)"},
	{"GET", "/debug/pprof/cmdline", inCurrent, false, "GET route since Docker 28.0 (moby#49051)"},
	{"GET", "/debug/pprof/profile", inCurrent, false, "GET route since Docker 28.0 (moby#49051)"},
	{"GET", "/debug/pprof/symbol", inCurrent, false, "GET route since Docker 28.0 (moby#49051)"},
	{"GET", "/debug/pprof/trace", inCurrent, false, "GET route since Docker 28.0 (moby#49051)"},
	{"GET", "/debug/pprof/{name}", inCurrent, false, "GET route since Docker 28.0 (moby#49051)"},
}

// Not listed: moby's unreleased branches (e.g. POST /containers/{name}/logs/clear,
// moby#46832, never merged) and the extension router of some development
// branches, whose prefix is configuration.

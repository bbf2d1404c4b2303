// routediff: a differential test of the proxy's decision (rules_decide,
// through build/tests/decide) against dockerd's route table loaded into
// gorilla/mux the way dockerd loads it (routes.go).
//
// For every generated (method, target):
//   - mux dispatches to route R: the proxy's verdict on the pair must equal its
//     verdict on R's canonical instance (R's template, each variable "x", the
//     same version prefix): same status, same need and need_alt masks, under
//     the defaults, all variables on, and V=1 and V=1 POST=1 for each V;
//   - mux answers 301 (unclean path): its Location is dispatched once; if that
//     reaches route R, the proxy must not allow the original under any of
//     those environments where it denies R's canonical instance;
//   - mux finds no route (404/405) or Go refuses the request (400): no
//     constraint.
//
// The 20.10 and the current route tables are served by one mux holding both:
// the routes only one of them has never shadow a route of the other
// (-verify-union checks that on every generated pair; -era serves one table).
//
// Build (GOPATH mode, Debian's packages, offline):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o build/tests/routediff ./tests/routes
//
// Run from the repository root:
//
//	build/tests/routediff -decide build/tests/decide -rules-h rules/rules.h
//
// Exit status: 0 no mismatch, 1 mismatches, 2 the test itself failed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
)

const versionMatcher = "/v{version:[0-9.]+}"

var methods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

// ---- the mux --------------------------------------------------------------------

type dispatch struct {
	kind     int // kRouted, kRedirect, kNone, kBad
	route    int
	version  string
	location string
}

const (
	kRouted = iota
	kRedirect
	kNone
	kBad
)

// newMux registers the routes of the selected eras exactly as dockerd's
// server.go does; a matched route's handler answers its index and version.
func newMux(eras int) *mux.Router {
	m := mux.NewRouter()
	for i, r := range routes {
		if r.Eras&eras == 0 {
			continue
		}
		i := i
		h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("X-Route", strconv.Itoa(i))
			w.Header().Set("X-Version", mux.Vars(req)["version"])
		})
		paths := []string{versionMatcher + r.Path, r.Path}
		if r.Bare {
			paths = paths[1:]
		}
		for _, p := range paths {
			rt := m.Path(p)
			if r.Method != "" {
				rt = rt.Methods(r.Method)
			}
			rt.Handler(h)
		}
	}
	notFound := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { w.WriteHeader(404) })
	m.HandleFunc(versionMatcher+"/{path:.*}", notFound)
	m.NotFoundHandler = notFound
	m.MethodNotAllowedHandler = notFound
	return m
}

func serve(m *mux.Router, method, target string) dispatch {
	raw := method + " " + target + " HTTP/1.1\r\nHost: docker\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return dispatch{kind: kBad}
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	if rec.Code == http.StatusMovedPermanently {
		return dispatch{kind: kRedirect, location: rec.Header().Get("Location")}
	}
	if s := rec.Header().Get("X-Route"); s != "" {
		i, _ := strconv.Atoi(s)
		return dispatch{kind: kRouted, route: i, version: rec.Header().Get("X-Version")}
	}
	return dispatch{kind: kNone}
}

var varRE = regexp.MustCompile(`\{[^{}]*\}`)

// canonical is route r's template with each variable "x", under the version
// prefix ("" for none).
func canonical(r int, version string) string {
	p := varRE.ReplaceAllString(routes[r].Path, "x")
	if version != "" {
		p = "/v" + version + p
	}
	return p
}

func routeName(r int) string {
	m := routes[r].Method
	if m == "" {
		m = "ANY"
	}
	return m + " " + routes[r].Path
}

// ---- the proxy's variables and environments ------------------------------------

func readVars(rulesH string) ([]string, error) {
	b, err := os.ReadFile(rulesH)
	if err != nil {
		return nil, err
	}
	s := string(b)
	start := strings.Index(s, "#define RULES_VARS(X)")
	if start < 0 {
		return nil, fmt.Errorf("%s: no RULES_VARS", rulesH)
	}
	var vars []string
	for _, line := range strings.Split(s[start:], "\n")[1:] {
		m := regexp.MustCompile(`^\s*X\((\w+),`).FindStringSubmatch(line)
		if m == nil {
			break
		}
		vars = append(vars, m[1])
	}
	if len(vars) == 0 || len(vars) > 64 {
		return nil, fmt.Errorf("%s: %d variables in RULES_VARS", rulesH, len(vars))
	}
	return vars, nil
}

type env struct{ name, value string }

func envs(vars []string) []env {
	all := make([]string, len(vars))
	for i, v := range vars {
		all[i] = v + "=1"
	}
	out := []env{{"(defaults)", ""}, {"(all on)", strings.Join(all, " ")}}
	for _, v := range vars {
		out = append(out, env{v + "=1", v + "=1"})
		if v != "POST" {
			out = append(out, env{v + "=1 POST=1", v + "=1 POST=1"})
		}
	}
	return out
}

// ---- the decide process ----------------------------------------------------------

type verdict struct {
	status    int
	need, alt uint64
	flags     uint64
}

func (v verdict) same(o verdict) bool {
	return v.status == o.status && v.need == o.need && v.alt == o.alt
}

type decider struct {
	cmd *exec.Cmd
	in  *bufio.Writer
	out *bufio.Reader
}

func startDecider(path string) (*decider, error) {
	cmd := exec.Command(path)
	cmd.Stderr = os.Stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &decider{cmd, bufio.NewWriterSize(w, 1<<16), bufio.NewReaderSize(r, 1<<16)}, nil
}

// decideAll answers every query under one environment, in order. tails[i]
// is "\tMETHOD\tTARGET\n" of query i.
func (d *decider) decideAll(envValue string, tails [][]byte, out []verdict) error {
	errc := make(chan error, 1)
	go func() {
		for _, t := range tails {
			d.in.WriteString(envValue)
			d.in.Write(t)
		}
		errc <- d.in.Flush()
	}()
	for i := range tails {
		line, err := d.out.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("decide: %v", err)
		}
		v, ok := parseVerdict(line)
		if !ok {
			return fmt.Errorf("decide answered %q to [%s]%s", strings.TrimSpace(string(line)), envValue,
				strings.TrimSpace(string(tails[i])))
		}
		out[i] = v
	}
	return <-errc
}

// parseVerdict reads "status need need_alt flags\n" (decimal, then hex).
func parseVerdict(line []byte) (verdict, bool) {
	var f [4]uint64
	n, i := 0, 0
	for n < 4 {
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\n' {
			c := line[i]
			switch {
			case c >= '0' && c <= '9':
				c -= '0'
			case n > 0 && c >= 'a' && c <= 'f':
				c -= 'a' - 10
			default:
				return verdict{}, false
			}
			if n == 0 {
				f[n] = f[n]*10 + uint64(c)
			} else {
				f[n] = f[n]<<4 | uint64(c)
			}
			i++
		}
		if i == start || i >= len(line) || (n < 3) != (line[i] == ' ') {
			return verdict{}, false
		}
		i++
		n++
	}
	return verdict{int(f[0]), f[1], f[2], f[3]}, i == len(line)
}

func (d *decider) close() {
	d.in.Flush()
	d.cmd.Process.Kill()
	d.cmd.Wait()
}

// ---- generation -----------------------------------------------------------------

type query struct{ method, target string }

type check struct {
	pair, canon int // query indexes
	route       int
	redirect    bool   // 301: only "not more permissive" is required
	location    string // for redirects
}

// actionWords: every literal segment of every template, the words a name
// may end in to look like another route.
func actionWords() []string {
	seen := map[string]bool{}
	for _, r := range routes {
		for _, s := range strings.Split(r.Path, "/") {
			if s != "" && !strings.Contains(s, "{") {
				seen[s] = true
			}
		}
	}
	var w []string
	for s := range seen {
		w = append(w, s)
	}
	sort.Strings(w)
	return w
}

// Names for the first variable of each template. baseNames are tried with
// both prefixes and every variant; moreNames with both prefixes, plain and
// with a trailing slash; word names ("x/W" for each action word W; -deep:
// and "W") plain, under one prefix or the other (-deep: every variant).
var baseNames = []string{"x", "web/exec", "team/get", "a/start", "x/attach/ws", "x/export", "reg:5000/app:1"}
var moreNames = []string{"exec", "json", "reg:5000/team/app:1/get", "a/b/c", "x/json/start", "web/db/logs"}

// fill replaces the first variable of a template by name and any other by "x".
func fill(tmpl, name string) string {
	first := true
	return varRE.ReplaceAllStringFunc(tmpl, func(string) string {
		if first {
			first = false
			return name
		}
		return "x"
	})
}

// variants of a clean path p (no version prefix): spellings dockerd reads as
// the same path or answers with a redirect. level 0: p; 1: and a trailing
// slash; 2: and repeated slashes, dot segments and escapes; 3 (-deep): more
// dot spellings.
func variants(p string, level int) []string {
	out := []string{p}
	if level >= 1 && p != "/" {
		out = append(out, p+"/")
	}
	i := strings.LastIndex(p, "/")
	if level < 2 || i < 0 {
		return out
	}
	head, last := p[:i], p[i+1:]
	if i > 0 {
		out = append(out,
			head+"//"+last,      // repeated slash: 301
			head+"/zz/../"+last, // dot-dot: 301
			head+"%2F"+last,     // escaped slash: the same path
			head+"/%2e/"+last,   // escaped dot segment: 301
		)
		if level >= 3 {
			out = append(out, head+"/./"+last, p+"/.", p+"/..", "/"+p, head+"/%2E%2E/"+last)
		}
	}
	if last != "" {
		out = append(out, head+"/"+fmt.Sprintf("%%%02X", last[0])+last[1:]) // %65xport
	}
	return out
}

// generate: every route's template with every base name, both prefixes and
// every variant; with every action-word name plain (-deep: with every
// variant and both prefixes); every method for each target.
func generate(maxPairs int, deep bool) []query {
	seen := map[string]bool{}
	var qs []query
	add := func(target string) {
		for _, m := range methods {
			k := m + " " + target
			if !seen[k] && (maxPairs <= 0 || len(qs) < maxPairs) {
				seen[k] = true
				qs = append(qs, query{m, target})
			}
		}
	}
	words := actionWords()
	prefixes := []string{"", "/v1.41"}
	top, more := 2, 1
	if deep {
		top, more = 3, 3
	}
	addAll := func(p string, level int) {
		for _, pre := range prefixes {
			for _, v := range variants(p, level) {
				add(pre + v)
			}
		}
	}
	for _, r := range routes {
		if !varRE.MatchString(r.Path) {
			addAll(r.Path, top)
			continue
		}
		for _, name := range baseNames {
			addAll(fill(r.Path, name), top)
		}
		for _, name := range moreNames {
			addAll(fill(r.Path, name), more)
		}
		for wi, w := range words {
			if deep {
				addAll(fill(r.Path, "x/"+w), top)
				addAll(fill(r.Path, w), top)
			} else {
				// alternate the prefix so both spellings meet every word
				add(prefixes[wi%2] + fill(r.Path, "x/"+w))
			}
		}
	}
	// Requests outside the table: the root, a version alone, double versions.
	for _, t := range []string{"/", "/v1.41", "/v1.41/", "/v1.41/v1.41/containers/json", "/x", "/libpod/containers/json"} {
		add(t)
	}
	return qs
}

// dispatchAll serves every pair through the mux on all CPUs; a redirect's
// Location is served once more.
func dispatchAll(m *mux.Router, pairs []query) (first, second []dispatch) {
	first = make([]dispatch, len(pairs))
	second = make([]dispatch, len(pairs))
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(pairs); i += workers {
				first[i] = serve(m, pairs[i].method, pairs[i].target)
				if first[i].kind == kRedirect {
					second[i] = serve(m, pairs[i].method, first[i].location)
				}
			}
		}(w)
	}
	wg.Wait()
	return first, second
}

// ---- main -----------------------------------------------------------------------

type mismatch struct {
	envs         []int   // envs where the check fails
	pv, cv       verdict // proxy's verdicts on the pair and on the route's canonical instance, first env
	looserEnvs   []int   // envs where the proxy allows the pair and denies the route
	stricterEnvs []int   // envs where the proxy denies the pair and allows the route
}

func main() { os.Exit(run()) }

func run() int {
	decidePath := flag.String("decide", "build/tests/decide", "the decide helper (tests/unit/decide.c)")
	rulesH := flag.String("rules-h", "rules/rules.h", "rules.h, for the variable names (RULES_VARS)")
	maxPairs := flag.Int("max-pairs", 0, "stop generating after this many (method, target) pairs; 0: all")
	seconds := flag.Float64("seconds", 120, "fail if the run takes longer than this")
	eraFlag := flag.String("era", "union", "route table: union (20.10 and current in one mux), 20.10, or current")
	show := flag.Int("show", 60, "mismatches printed in full (the grouped summary is always complete)")
	deep := flag.Bool("deep", false, "every variant of every name under both prefixes (about 20 times the pairs: a minute or more)")
	verifyUnion := flag.Bool("verify-union", false, "check that the union mux routes every pair as the 20.10 or the current mux does, and exit")
	table := flag.Bool("table", false, "print the proxy's verdict on every route's canonical instance and exit")
	flagsToo := flag.Bool("flags", false, "also require equal flags (stream/hijack); otherwise flag differences are only counted")
	flag.Parse()
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))

	eras := map[string]int{"union": both, "20.10": in2010, "current": inCurrent}[*eraFlag]
	if eras == 0 {
		fmt.Fprintln(os.Stderr, "routediff: -era must be union, 20.10 or current")
		return 2
	}
	vars, err := readVars(*rulesH)
	if err != nil {
		fmt.Fprintln(os.Stderr, "routediff:", err)
		return 2
	}
	envList := envs(vars)
	m := newMux(eras)

	// Every route's canonical instance must reach that route (else the table
	// or the canonical instances are wrong, not the proxy).
	for i, r := range routes {
		if r.Eras&eras == 0 {
			continue
		}
		pres := []string{"", "1.41"}
		if r.Bare {
			pres = pres[:1]
		}
		for _, v := range pres {
			meth := r.Method
			if meth == "" {
				meth = "GET"
			}
			d := serve(m, meth, canonical(i, v))
			// (in the union, 20.10's any-method debug routes come first: a
			// route of the same template is the same route)
			if d.kind != kRouted || routes[d.route].Path != r.Path {
				fmt.Fprintf(os.Stderr, "routediff: canonical %s %s does not reach %s (kind %d route %d)\n",
					meth, canonical(i, v), routeName(i), d.kind, d.route)
				return 2
			}
		}
	}

	if *table {
		return printTable(*decidePath, eras, vars)
	}

	pairs := generate(*maxPairs, *deep)
	genTime := time.Since(start)
	if *verifyUnion {
		return verifyUnionMux(pairs)
	}

	// Dispatch every pair; collect the queries the proxy must answer.
	var qs []query
	qidx := map[query]int{}
	q := func(x query) int {
		if i, ok := qidx[x]; ok {
			return i
		}
		qidx[x] = len(qs)
		qs = append(qs, x)
		return len(qs) - 1
	}
	var checks []check
	var nRouted, nRedirect, nNone, nBad, nRedirectRouted int
	first, second := dispatchAll(m, pairs)
	for i, p := range pairs {
		switch d := first[i]; d.kind {
		case kRouted:
			nRouted++
			checks = append(checks, check{pair: q(p), canon: q(query{p.method, canonical(d.route, d.version)}), route: d.route})
		case kRedirect:
			nRedirect++
			if d2 := second[i]; d2.kind == kRouted {
				nRedirectRouted++
				checks = append(checks, check{pair: q(p), canon: q(query{p.method, canonical(d2.route, d2.version)}),
					route: d2.route, redirect: true, location: d.location})
			}
		case kNone:
			nNone++
		case kBad:
			nBad++
		}
	}
	if time.Now().After(deadline) {
		fmt.Fprintf(os.Stderr, "routediff: over %.0f s while dispatching through mux\n", *seconds)
		return 2
	}
	muxTime := time.Since(start) - genTime

	dec, err := startDecider(*decidePath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "routediff:", err)
		return 2
	}
	defer dec.close()
	if err := selfCheck(dec, vars); err != nil {
		fmt.Fprintln(os.Stderr, "routediff:", err)
		return 2
	}
	mism := map[int]*mismatch{}
	verd := make([]verdict, len(qs))
	tails := make([][]byte, len(qs))
	for i, x := range qs {
		tails[i] = []byte("\t" + x.method + "\t" + x.target + "\n")
	}
	flagDiff := make([]bool, len(checks))
	for ei, e := range envList {
		if err := dec.decideAll(e.value, tails, verd); err != nil {
			fmt.Fprintln(os.Stderr, "routediff:", err)
			return 2
		}
		for ci, c := range checks {
			pv, cv := verd[c.pair], verd[c.canon]
			looser := pv.status == 0 && cv.status != 0
			bad := looser
			if !c.redirect {
				bad = !pv.same(cv) || (*flagsToo && pv.flags != cv.flags)
				flagDiff[ci] = flagDiff[ci] || pv.flags != cv.flags
			}
			if !bad {
				continue
			}
			mm := mism[ci]
			if mm == nil {
				mm = &mismatch{pv: pv, cv: cv}
				mism[ci] = mm
			}
			mm.envs = append(mm.envs, ei)
			if looser {
				mm.looserEnvs = append(mm.looserEnvs, ei)
			} else if pv.status != 0 && cv.status == 0 {
				mm.stricterEnvs = append(mm.stricterEnvs, ei)
			}
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "routediff: over %.0f s while asking the proxy (env %d of %d)\n", *seconds, ei+1, len(envList))
			return 2
		}
	}
	decideTime := time.Since(start) - genTime - muxTime

	// ---- report ----
	fmt.Printf("routediff: %d routes (%s), %d envs, %d pairs: %d routed, %d redirected (%d of them to a route), %d unrouted, %d refused by Go\n",
		countRoutes(eras), *eraFlag, len(envList), len(pairs), nRouted, nRedirect, nRedirectRouted, nNone, nBad)
	fmt.Printf("routediff: %d checks x %d envs = %d comparisons (%d proxy decisions); time: generate %.2fs, mux %.2fs, proxy %.2fs\n",
		len(checks), len(envList), len(checks)*len(envList), len(qs)*len(envList),
		genTime.Seconds(), muxTime.Seconds(), decideTime.Seconds())
	nFlag := 0
	for _, b := range flagDiff {
		if b {
			nFlag++
		}
	}
	fmt.Printf("routediff: %d routed pairs whose flags (stream/hijack) differ from their route's (mismatches only with -flags)\n", nFlag)

	envNames := func(ix []int) string {
		if len(ix) == len(envList) {
			return fmt.Sprintf("all %d envs", len(ix))
		}
		var s []string
		for i, e := range ix {
			if i == 6 {
				s = append(s, fmt.Sprintf("... (%d envs)", len(ix)))
				break
			}
			s = append(s, envList[e].name)
		}
		return strings.Join(s, ", ")
	}
	needs := func(v verdict) string {
		t := maskText(v.need, vars)
		if v.alt != 0 {
			t += " or " + maskText(v.alt, vars)
		}
		if v.status == 400 {
			t = "refused as ambiguous (400)"
		}
		if v.flags != 0 {
			t += fmt.Sprintf(" (flags %x)", v.flags)
		}
		return t
	}
	class := func(c check, mm *mismatch) string {
		switch {
		case c.redirect:
			return "looser via 301"
		case len(mm.looserEnvs) > 0 && len(mm.stricterEnvs) > 0:
			return "looser+stricter"
		case len(mm.looserEnvs) > 0:
			return "looser"
		case len(mm.stricterEnvs) > 0:
			return "stricter"
		case mm.pv.same(mm.cv):
			return "flags only"
		}
		return "need only"
	}
	var ids []int
	for ci := range mism {
		ids = append(ids, ci)
	}
	sort.Ints(ids)
	for i, ci := range ids {
		if i >= *show {
			fmt.Printf("... %d more mismatches (-show N prints more); every one is counted in the groups below\n", len(ids)-i)
			break
		}
		c, mm := checks[ci], mism[ci]
		p, cn := qs[c.pair], qs[c.canon]
		via := ""
		if c.redirect {
			via = " -301-> " + c.location
		}
		fmt.Printf("MISMATCH [%s] %s %s%s = %s (as %s)\n    proxy needs %s; the route needs %s; fails in %s",
			class(c, mm), p.method, p.target, via, routeName(c.route), cn.target, needs(mm.pv), needs(mm.cv), envNames(mm.envs))
		if len(mm.looserEnvs) > 0 {
			fmt.Printf("; proxy allows, route denies in: %s", envNames(mm.looserEnvs))
		}
		if len(mm.stricterEnvs) > 0 {
			fmt.Printf("; proxy denies, route allows in: %s", envNames(mm.stricterEnvs))
		}
		fmt.Println()
	}

	// Groups: method -> route, then (class, proxy's need, route's need).
	type sub struct {
		n        int
		examples []string
	}
	type group struct {
		n     int
		subs  map[string]*sub
		order []string
	}
	groups := map[string]*group{}
	var gorder []string
	for _, ci := range ids {
		c, mm := checks[ci], mism[ci]
		gk := fmt.Sprintf("%s -> %s", qs[c.pair].method, routeName(c.route))
		g := groups[gk]
		if g == nil {
			g = &group{subs: map[string]*sub{}}
			groups[gk] = g
			gorder = append(gorder, gk)
		}
		g.n++
		sk := fmt.Sprintf("%-15s proxy needs %s; route needs %s", "["+class(c, mm)+"]", needs(mm.pv), needs(mm.cv))
		sb := g.subs[sk]
		if sb == nil {
			sb = &sub{}
			g.subs[sk] = sb
			g.order = append(g.order, sk)
		}
		sb.n++
		if len(sb.examples) < 4 {
			sb.examples = append(sb.examples, qs[c.pair].target)
		}
	}
	if len(gorder) > 0 {
		fmt.Printf("\nroutediff: %d mismatches, by method -> route dockerd dispatches to:\n", len(ids))
		for _, gk := range gorder {
			g := groups[gk]
			fmt.Printf("%s: %d\n", gk, g.n)
			for _, sk := range g.order {
				sb := g.subs[sk]
				fmt.Printf("  %5d %s\n        e.g. %s\n", sb.n, sk, strings.Join(sb.examples, "  "))
			}
		}
	}
	fmt.Printf("routediff: %d mismatches, %.2fs\n", len(ids), time.Since(start).Seconds())
	if len(ids) > 0 {
		return 1
	}
	return 0
}

// selfCheck: the helper answers as rules.h's variable order says (bit i is
// vars[i]), so the masks printed here name the right variables.
func selfCheck(dec *decider, vars []string) error {
	bit := func(name string) uint64 {
		for i, v := range vars {
			if v == name {
				return 1 << uint(i)
			}
		}
		return 0
	}
	rows := []struct {
		env, method, target string
		want                verdict
	}{
		{"", "GET", "/_ping", verdict{0, bit("PING"), 0, 0}},
		{"", "GET", "/v1.41/info", verdict{403, bit("INFO"), 0, 0}},
		{"CONTAINERS=1 POST=1", "DELETE", "/containers/x", verdict{0, bit("CONTAINERS") | bit("POST"), 0, 0}},
		{"", "GET", "/nowhere", verdict{403, 0, 0, 0}},
	}
	for _, r := range rows {
		out := make([]verdict, 1)
		if err := dec.decideAll(r.env, [][]byte{[]byte("\t" + r.method + "\t" + r.target + "\n")}, out); err != nil {
			return err
		}
		if out[0] != r.want || r.want.need == 0 && r.target != "/nowhere" {
			return fmt.Errorf("self-check: [%s] %s %s: decide says %+v, expected %+v (is rules.h the one decide was built from?)",
				r.env, r.method, r.target, out[0], r.want)
		}
	}
	return nil
}

// verifyUnionMux: one union mux stands for both eras when every pair it
// routes reaches the same template in an era that routes it, and every pair
// an era routes is routed by the union the same way.
func verifyUnionMux(pairs []query) int {
	u, _ := dispatchAll(newMux(both), pairs)
	a, _ := dispatchAll(newMux(in2010), pairs)
	c, _ := dispatchAll(newMux(inCurrent), pairs)
	tmpl := func(d dispatch) string {
		switch d.kind {
		case kRouted:
			return routes[d.route].Path + " v" + d.version
		case kRedirect:
			return "301 " + d.location
		}
		return "-"
	}
	bad := 0
	for i, p := range pairs {
		tu, ta, tc := tmpl(u[i]), tmpl(a[i]), tmpl(c[i])
		ok := (ta == "-" || ta == tu) && (tc == "-" || tc == tu) && (tu == "-" || tu == ta || tu == tc)
		if !ok {
			bad++
			if bad <= 20 {
				fmt.Printf("union %q, 20.10 %q, current %q: %s %s\n", tu, ta, tc, p.method, p.target)
			}
		}
	}
	fmt.Printf("routediff: verify-union: %d pairs, %d disagreements\n", len(pairs), bad)
	if bad > 0 {
		return 1
	}
	return 0
}

// printTable shows how the proxy decides each route (its canonical instance
// under /v1.41, the defaults): what a reviewer reads to judge the rules.
func printTable(decidePath string, eras int, vars []string) int {
	dec, err := startDecider(decidePath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "routediff:", err)
		return 2
	}
	defer dec.close()
	var idx []int
	var tails [][]byte
	for i, r := range routes {
		if r.Eras&eras == 0 {
			continue
		}
		meth := r.Method
		if meth == "" {
			meth = "GET"
		}
		v := "1.41"
		if r.Bare {
			v = ""
		}
		idx = append(idx, i)
		tails = append(tails, []byte("\t"+meth+"\t"+canonical(i, v)+"\n"))
	}
	out := make([]verdict, len(tails))
	if err := dec.decideAll("", tails, out); err != nil {
		fmt.Fprintln(os.Stderr, "routediff:", err)
		return 2
	}
	for k, i := range idx {
		v := out[k]
		need := maskText(v.need, vars)
		if v.alt != 0 {
			need += " or " + maskText(v.alt, vars)
		}
		fl := ""
		if v.flags&1 != 0 {
			fl += " stream"
		}
		if v.flags&2 != 0 {
			fl += " hijack"
		}
		note := ""
		if routes[i].Note != "" {
			note = "  (" + routes[i].Note + ")"
		}
		fmt.Printf("%-50s needs %s%s%s\n", routeName(i), need, fl, note)
	}
	return 0
}

func countRoutes(eras int) int {
	n := 0
	for _, r := range routes {
		if r.Eras&eras != 0 {
			n++
		}
	}
	return n
}

func maskText(m uint64, vars []string) string {
	if m == 0 {
		return "nothing (no variable grants it)"
	}
	var s []string
	for i, v := range vars {
		if m&(1<<uint(i)) != 0 {
			s = append(s, v)
		}
	}
	return strings.Join(s, "+")
}

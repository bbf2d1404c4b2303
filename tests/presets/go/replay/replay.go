// Package replay runs an application's Docker API calls through the proxy
// with the Go docker client (Debian's golang-github-docker-docker-dev, the
// library Traefik, Watchtower, Dozzle and Portainer are built on) and prints
// one line per call for tests/integration/test_presets.py:
//
//	ok NAME                  the call succeeded
//	ok NAME (daemon: MSG)    the proxy let it through and the daemon refused it
//	                         (swarm calls on a daemon that is no swarm manager)
//	refused NAME             the proxy answered its own 403, as it must
//	FAIL NAME: MSG           anything else
//
// The program exits 1 when a line says FAIL.
package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
)

// Replay holds the client and what the test prepared: a running container
// (printing "ready" on stdout and "oops" on stderr, then a line a second) and
// its image.
type Replay struct {
	Ctx       context.Context
	Cli       *client.Client
	Container string // name of the running container
	Image     string // an image present on the daemon
	Old       string // watchtower: the image the watched container runs
	Unique    string // prefix for the names of objects a replay creates
	Since     string // events since (unix seconds)
	Socket    string
	failed    int
}

// New parses the flags, connects to the proxy's Unix socket and negotiates
// the API version as the applications' clients do (a ping first, then every
// path carries the version); that is the replay's first line.
func New() *Replay {
	r := &Replay{Ctx: context.Background()}
	sock := flag.String("socket", "", "the proxy's Unix socket")
	flag.StringVar(&r.Container, "container", "", "a running container")
	flag.StringVar(&r.Image, "image", "", "an image on the daemon")
	flag.StringVar(&r.Old, "old-image", "", "the watched container's image (watchtower)")
	flag.StringVar(&r.Unique, "unique", "sp-replay", "prefix for created objects")
	flag.StringVar(&r.Since, "since", "", "events since (unix seconds)")
	flag.Parse()
	if *sock == "" {
		fmt.Fprintln(os.Stderr, "usage: replay -socket PATH [-container NAME] [-image REF]")
		os.Exit(2)
	}
	cli, err := client.NewClientWithOpts(client.WithHost("unix://"+*sock), client.WithAPIVersionNegotiation())
	if err != nil {
		fmt.Printf("FAIL client: %v\n", err)
		os.Exit(1)
	}
	r.Cli = cli
	r.Socket = *sock
	r.Ok("ping (API version negotiation)", r.Negotiate)
	return r
}

// ProxyRefused is true for the proxy's own answer: 403 with a message that
// starts with "socket-proxy:" (the client prefixes "Error response from daemon: ").
func ProxyRefused(err error) bool {
	return err != nil && errdefs.IsForbidden(err) && strings.Contains(err.Error(), "daemon: socket-proxy: ")
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// Ok: the call must succeed.
func (r *Replay) Ok(name string, f func() error) {
	if err := f(); err != nil {
		r.failed++
		fmt.Printf("FAIL %s: %s\n", name, oneLine(err))
		return
	}
	fmt.Printf("ok %s\n", name)
}

// Reached: the call must reach the daemon; the daemon may refuse it.
func (r *Replay) Reached(name string, f func() error) {
	err := f()
	switch {
	case err == nil:
		fmt.Printf("ok %s\n", name)
	case ProxyRefused(err) || errdefs.IsForbidden(err):
		r.failed++
		fmt.Printf("FAIL %s: %s\n", name, oneLine(err))
	default:
		fmt.Printf("ok %s (daemon: %s)\n", name, oneLine(err))
	}
}

// Refused: the proxy must answer the call with its own 403.
func (r *Replay) Refused(name string, f func() error) {
	err := f()
	if ProxyRefused(err) {
		fmt.Printf("refused %s\n", name)
		return
	}
	r.failed++
	if err == nil {
		fmt.Printf("FAIL %s: expected the proxy's 403, the call succeeded\n", name)
	} else {
		fmt.Printf("FAIL %s: expected the proxy's 403, got: %s\n", name, oneLine(err))
	}
}

// RawRefused sends one request on its own connection (for calls whose
// client method cannot show the proxy's answer, such as a hijacked attach)
// and returns its answer as the client would: the proxy's 403 is an error
// ProxyRefused recognises.
func (r *Replay) RawRefused(method, path string) error {
	c, err := net.Dial("unix", r.Socket)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n",
		method, path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var m struct {
		Message string `json:"message"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode == http.StatusForbidden && strings.HasPrefix(m.Message, "socket-proxy: ") {
		return errdefs.Forbidden(fmt.Errorf("Error response from daemon: %s", m.Message))
	}
	return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, m.Message)
}

// Done exits 1 if any call failed.
func (r *Replay) Done() {
	if r.failed > 0 {
		fmt.Printf("%d call(s) failed\n", r.failed)
		os.Exit(1)
	}
	os.Exit(0)
}

// Filters builds filters.Args from "key=value" pairs.
func Filters(kv ...string) filters.Args {
	f := filters.NewArgs()
	for _, p := range kv {
		k, v, _ := strings.Cut(p, "=")
		f.Add(k, v)
	}
	return f
}

// Negotiate pings (HEAD /_ping, as the client does before its first call)
// and checks the negotiated version came from the daemon.
func (r *Replay) Negotiate() error {
	p, err := r.Cli.Ping(r.Ctx)
	if err != nil {
		return err
	}
	if p.APIVersion == "" {
		return errors.New("no API-Version header in the ping answer")
	}
	r.Cli.NegotiateAPIVersionPing(p)
	return nil
}

// EventsHeld subscribes with opts, waits for one event (opts.Since replays
// history) and checks the stream is still open after hold.
func (r *Replay) EventsHeld(opts types.EventsOptions, hold time.Duration) error {
	ctx, cancel := context.WithCancel(r.Ctx)
	defer cancel()
	msgs, errs := r.Cli.Events(ctx, opts)
	select {
	case <-msgs:
	case err := <-errs:
		return err
	case <-time.After(15 * time.Second):
		return errors.New("no event within 15s")
	}
	select {
	case err := <-errs:
		return fmt.Errorf("stream ended while held open: %v", err)
	case <-time.After(hold):
		return nil
	}
}

// watchWriter records what is written and closes found once want appears.
type watchWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	want  string
	found chan struct{}
	once  sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.found) })
	}
	return len(p), nil
}

// LogsFollow follows the container's logs, demultiplexes them with stdcopy
// and waits for "ready" on stdout and "oops" on stderr.
func (r *Replay) LogsFollow(opts types.ContainerLogsOptions) error {
	ctx, cancel := context.WithCancel(r.Ctx)
	defer cancel()
	opts.Follow = true
	rc, err := r.Cli.ContainerLogs(ctx, r.Container, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	out := &watchWriter{want: "ready", found: make(chan struct{})}
	errw := &watchWriter{want: "oops", found: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(out, errw, rc)
		done <- err
	}()
	deadline := time.After(15 * time.Second)
	for _, w := range []*watchWriter{out, errw} {
		select {
		case <-w.found:
		case err := <-done:
			return fmt.Errorf("log stream ended before %q: %v", w.want, err)
		case <-deadline:
			return fmt.Errorf("no %q in the followed logs within 15s", w.want)
		}
	}
	return nil
}

// Logs reads the logs without following and demultiplexes them.
func (r *Replay) Logs(opts types.ContainerLogsOptions) error {
	rc, err := r.Cli.ContainerLogs(r.Ctx, r.Container, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	var out, errb bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, rc); err != nil {
		return err
	}
	if !strings.Contains(out.String(), "ready") {
		return fmt.Errorf("no \"ready\" in the logs: %q", out.String())
	}
	return nil
}

// ListAll is ContainerList with all=1.
func (r *Replay) ListAll() error {
	_, err := r.Cli.ContainerList(r.Ctx, types.ContainerListOptions{All: true})
	return err
}

// Inspect inspects the running container.
func (r *Replay) Inspect() error {
	_, err := r.Cli.ContainerInspect(r.Ctx, r.Container)
	return err
}

// Create creates a container of the image on the "none" network.
func (r *Replay) Create(name string) error {
	_, err := r.Cli.ContainerCreate(r.Ctx, &container.Config{Image: r.Image}, &container.HostConfig{NetworkMode: "none"},
		&network.NetworkingConfig{}, nil, name)
	return err
}

// StatsStream reads n stats objects from the streaming endpoint.
func (r *Replay) StatsStream(n int) error {
	ctx, cancel := context.WithTimeout(r.Ctx, 20*time.Second)
	defer cancel()
	st, err := r.Cli.ContainerStats(ctx, r.Container, true)
	if err != nil {
		return err
	}
	defer st.Body.Close()
	dec := json.NewDecoder(st.Body)
	for i := 0; i < n; i++ {
		var v types.StatsJSON
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("stats object %d: %v", i+1, err)
		}
	}
	return nil
}

// StatsOnce is GET .../stats?stream=0.
func (r *Replay) StatsOnce() error {
	st, err := r.Cli.ContainerStats(r.Ctx, r.Container, false)
	if err != nil {
		return err
	}
	defer st.Body.Close()
	var v types.StatsJSON
	return json.NewDecoder(st.Body).Decode(&v)
}

// Drain reads a progress stream (pull, push, build, load) to its end and
// returns the first error it reports.
func Drain(rc io.ReadCloser, err error) error {
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var m struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}

// Discard reads a stream to its end.
func Discard(rc io.ReadCloser, err error) error {
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// ExecRun creates an exec of cmd in the container, starts it attached and
// returns its demultiplexed stdout.
func (r *Replay) ExecRun(cmd ...string) (string, string, error) {
	ex, err := r.Cli.ContainerExecCreate(r.Ctx, r.Container, types.ExecConfig{AttachStdout: true, AttachStderr: true, Cmd: cmd})
	if err != nil {
		return "", "", err
	}
	hj, err := r.Cli.ContainerExecAttach(r.Ctx, ex.ID, types.ExecStartCheck{})
	if err != nil {
		return ex.ID, "", err
	}
	defer hj.Close()
	var out, errb bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, hj.Reader); err != nil {
		return ex.ID, "", err
	}
	return ex.ID, out.String(), nil
}

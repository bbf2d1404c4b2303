// Traefik's Docker provider (pkg/provider/docker): version negotiation,
// ServerVersion, ContainerList, ContainerInspect of each container (and of
// the one whose network it shares), Events filtered to containers, held open.
package main

import (
	"time"

	"github.com/docker/docker/api/types"

	"spreplay/replay"
)

func main() {
	r := replay.New()
	ctx, cli := r.Ctx, r.Cli
	r.Ok("version", func() error { _, err := cli.ServerVersion(ctx); return err })
	r.Ok("container list all", r.ListAll)
	r.Ok("container list with filters", func() error {
		_, err := cli.ContainerList(ctx, types.ContainerListOptions{Filters: replay.Filters("status=running", "label=traefik.enable=true")})
		return err
	})
	r.Ok("container inspect", r.Inspect)
	r.Ok("events type=container, held open", func() error {
		return r.EventsHeld(types.EventsOptions{Since: r.Since, Filters: replay.Filters("type=container")}, 2*time.Second)
	})

	r.Refused("container create", func() error { return r.Create(r.Unique + "-created") })
	r.Refused("container start", func() error { return cli.ContainerStart(ctx, r.Container, types.ContainerStartOptions{}) })
	r.Refused("container restart", func() error { return cli.ContainerRestart(ctx, r.Container, nil) })
	r.Refused("exec create", func() error {
		_, err := cli.ContainerExecCreate(ctx, r.Container, types.ExecConfig{Cmd: []string{"true"}})
		return err
	})
	r.Refused("container logs", func() error {
		return replay.Discard(cli.ContainerLogs(ctx, r.Container, types.ContainerLogsOptions{ShowStdout: true}))
	})
	r.Refused("container top", func() error { _, err := cli.ContainerTop(ctx, r.Container, nil); return err })
	r.Refused("container changes", func() error { _, err := cli.ContainerDiff(ctx, r.Container); return err })
	r.Refused("container export", func() error { return replay.Discard(cli.ContainerExport(ctx, r.Container)) })
	r.Refused("container archive", func() error {
		rc, _, err := cli.CopyFromContainer(ctx, r.Container, "/etc")
		return replay.Discard(rc, err)
	})
	r.Refused("image list", func() error { _, err := cli.ImageList(ctx, types.ImageListOptions{}); return err })
	r.Refused("network list", func() error { _, err := cli.NetworkList(ctx, types.NetworkListOptions{}); return err })
	r.Refused("info", func() error { _, err := cli.Info(ctx); return err })
	r.Refused("service list", func() error { _, err := cli.ServiceList(ctx, types.ServiceListOptions{}); return err })
	r.Done()
}

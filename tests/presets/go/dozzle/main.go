// Dozzle (internal/docker/client.go): version negotiation, Info for the host
// card, ContainerList (all, with the user's filters), ContainerInspect,
// ContainerLogs followed with timestamps, tail and since and demultiplexed
// with stdcopy, logs between two dates, ContainerStats streamed, Events held
// open. Container actions, shell (exec) and attach are opt-in in Dozzle and
// not in the preset.
package main

import (
	"strconv"
	"time"

	"github.com/docker/docker/api/types"

	"spreplay/replay"
)

func main() {
	r := replay.New()
	ctx, cli := r.Ctx, r.Cli
	r.Ok("info", func() error { _, err := cli.Info(ctx); return err })
	r.Ok("container list all", r.ListAll)
	r.Ok("container list all with filters", func() error {
		_, err := cli.ContainerList(ctx, types.ContainerListOptions{All: true, Filters: replay.Filters("name=" + r.Container)})
		return err
	})
	r.Ok("container inspect", r.Inspect)
	since := time.Now().Add(-10 * time.Minute)
	r.Ok("logs follow, stdcopy demux", func() error {
		return r.LogsFollow(types.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true,
			Tail: strconv.Itoa(100), Since: since.Format(time.RFC3339Nano)})
	})
	r.Ok("logs between dates", func() error {
		return r.Logs(types.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true,
			Since: since.Format(time.RFC3339Nano), Until: time.Now().Add(time.Minute).Format(time.RFC3339Nano)})
	})
	r.Ok("stats stream", func() error { return r.StatsStream(2) })
	r.Ok("events, held open", func() error { return r.EventsHeld(types.EventsOptions{Since: r.Since}, 2*time.Second) })

	r.Refused("exec create (shell is opt-in)", func() error {
		_, err := cli.ContainerExecCreate(ctx, r.Container, types.ExecConfig{Cmd: []string{"sh"}, Tty: true})
		return err
	})
	r.Refused("container attach (opt-in)", func() error {
		return r.RawRefused("POST", "/containers/"+r.Container+"/attach?stream=1&stdin=1&stdout=1")
	})
	r.Refused("container stop (actions are opt-in)", func() error { return cli.ContainerStop(ctx, r.Container, nil) })
	r.Refused("container restart (actions are opt-in)", func() error { return cli.ContainerRestart(ctx, r.Container, nil) })
	r.Refused("container create", func() error { return r.Create(r.Unique + "-created") })
	r.Refused("container top", func() error { _, err := cli.ContainerTop(ctx, r.Container, nil); return err })
	r.Refused("container archive", func() error {
		rc, _, err := cli.CopyFromContainer(ctx, r.Container, "/etc")
		return replay.Discard(rc, err)
	})
	r.Refused("image list", func() error { _, err := cli.ImageList(ctx, types.ImageListOptions{}); return err })
	r.Refused("volume list", func() error { _, err := cli.VolumeList(ctx, replay.Filters()); return err })
	r.Refused("network list", func() error { _, err := cli.NetworkList(ctx, types.NetworkListOptions{}); return err })
	r.Done()
}

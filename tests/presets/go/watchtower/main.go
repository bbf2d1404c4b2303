// Watchtower (pkg/container/client.go): list running containers, inspect
// each and its image, pull the image (the daemon fails to reach the registry:
// fine, as long as the proxy let the pull through), then recreate the
// container: rename (its self-update), kill with the stop signal, wait,
// remove, create with the old config, move the endpoints (network disconnect
// and connect), start, and remove the old image (--cleanup). Lifecycle hooks
// (exec) are opt-in and not in the preset.
package main

import (
	"errors"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/network"

	"spreplay/replay"
)

func main() {
	r := replay.New()
	ctx, cli := r.Ctx, r.Cli
	r.Ok("container list status=running", func() error {
		_, err := cli.ContainerList(ctx, types.ContainerListOptions{Filters: replay.Filters("status=running")})
		return err
	})
	r.Ok("container list running, created, exited (include-stopped)", func() error {
		_, err := cli.ContainerList(ctx, types.ContainerListOptions{
			Filters: replay.Filters("status=running", "status=created", "status=exited")})
		return err
	})
	old, err := cli.ContainerInspect(ctx, r.Container)
	r.Ok("container inspect", func() error { return err })
	if err != nil {
		r.Done()
	}
	r.Ok("image inspect", func() error { _, _, err := cli.ImageInspectWithRaw(ctx, old.Image); return err })
	r.Reached("image pull", func() error {
		return replay.Drain(cli.ImagePull(ctx, old.Config.Image, types.ImagePullOptions{}))
	})
	r.Ok("image inspect by name (has new image?)", func() error {
		_, _, err := cli.ImageInspectWithRaw(ctx, old.Config.Image)
		return err
	})
	name := old.Name
	r.Ok("container rename", func() error { return cli.ContainerRename(ctx, old.ID, r.Unique+"-old") })
	r.Ok("container kill SIGTERM", func() error { return cli.ContainerKill(ctx, old.ID, "SIGTERM") })
	r.Ok("container inspect until stopped", func() error {
		for i := 0; i < 100; i++ {
			ci, err := cli.ContainerInspect(ctx, old.ID)
			if err != nil {
				return err
			}
			if !ci.State.Running {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return errors.New("still running after 10s")
	})
	timeout := time.Second
	r.Ok("container stop (older watchtower)", func() error { return cli.ContainerStop(ctx, old.ID, &timeout) })
	r.Ok("container remove force, volumes", func() error {
		return cli.ContainerRemove(ctx, old.ID, types.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	})
	config, hostConfig := old.Config, old.HostConfig
	config.Image = r.Image // the "new" image
	endpoints := old.NetworkSettings.Networks
	var created string
	r.Ok("container create", func() error {
		c, err := cli.ContainerCreate(ctx, config, hostConfig, &network.NetworkingConfig{EndpointsConfig: endpoints}, nil, name)
		created = c.ID
		return err
	})
	for net, ep := range endpoints { // "none": the test's containers have no network
		r.Ok("network disconnect", func() error { return cli.NetworkDisconnect(ctx, net, created, true) })
		r.Ok("network connect", func() error { return cli.NetworkConnect(ctx, net, created, ep) })
	}
	r.Ok("container start", func() error { return cli.ContainerStart(ctx, created, types.ContainerStartOptions{}) })
	r.Ok("image remove old image (cleanup)", func() error {
		_, err := cli.ImageRemove(ctx, old.Image, types.ImageRemoveOptions{Force: true})
		return err
	})

	r.Refused("exec create (lifecycle hooks are opt-in)", func() error {
		_, err := cli.ContainerExecCreate(ctx, created, types.ExecConfig{Cmd: []string{"true"}})
		return err
	})
	r.Refused("events", func() error { return r.EventsHeld(types.EventsOptions{Since: r.Since}, 0) })
	r.Refused("container logs", func() error {
		return replay.Discard(cli.ContainerLogs(ctx, created, types.ContainerLogsOptions{ShowStdout: true}))
	})
	r.Refused("container archive", func() error {
		rc, _, err := cli.CopyFromContainer(ctx, created, "/etc")
		return replay.Discard(rc, err)
	})
	r.Refused("container export", func() error { return replay.Discard(cli.ContainerExport(ctx, created)) })
	r.Refused("image save", func() error { return replay.Discard(cli.ImageSave(ctx, []string{r.Image})) })
	r.Refused("volume list", func() error { _, err := cli.VolumeList(ctx, replay.Filters()); return err })
	r.Refused("info", func() error { _, err := cli.Info(ctx); return err })
	r.Refused("service list", func() error { _, err := cli.ServiceList(ctx, types.ServiceListOptions{}); return err })
	r.Done()
}

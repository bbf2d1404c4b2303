// Traefik's Swarm provider (pkg/provider/docker/pswarm.go): ServerVersion,
// ServiceList, NetworkList filtered to the swarm scope, TaskList per service
// with desired-state=running, NodeInspect of each task's node, polled (no
// events). On a daemon that is no swarm manager the swarm calls get the
// daemon's 503: what matters is that the proxy lets them through.
package main

import (
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/swarm"

	"spreplay/replay"
)

func main() {
	r := replay.New()
	ctx, cli := r.Ctx, r.Cli
	r.Ok("version", func() error { _, err := cli.ServerVersion(ctx); return err })
	r.Reached("service list", func() error { _, err := cli.ServiceList(ctx, types.ServiceListOptions{}); return err })
	r.Ok("network list scope=swarm", func() error {
		_, err := cli.NetworkList(ctx, types.NetworkListOptions{Filters: replay.Filters("scope=swarm")})
		return err
	})
	r.Ok("network list driver=overlay (API < 1.29)", func() error {
		_, err := cli.NetworkList(ctx, types.NetworkListOptions{Filters: replay.Filters("driver=overlay")})
		return err
	})
	r.Reached("task list service=, desired-state=running", func() error {
		_, err := cli.TaskList(ctx, types.TaskListOptions{Filters: replay.Filters("service=web", "desired-state=running")})
		return err
	})
	r.Reached("node inspect", func() error { _, _, err := cli.NodeInspectWithRaw(ctx, "sp-node"); return err })

	r.Refused("container list", func() error { _, err := cli.ContainerList(ctx, types.ContainerListOptions{}); return err })
	r.Refused("events", func() error {
		return r.EventsHeld(types.EventsOptions{Since: r.Since}, 0)
	})
	r.Refused("service create", func() error {
		spec := swarm.ServiceSpec{
			Annotations:  swarm.Annotations{Name: r.Unique + "-svc"},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: r.Image}},
		}
		_, err := cli.ServiceCreate(ctx, spec, types.ServiceCreateOptions{})
		return err
	})
	r.Refused("service remove", func() error { return cli.ServiceRemove(ctx, "web") })
	r.Refused("secret list", func() error { _, err := cli.SecretList(ctx, types.SecretListOptions{}); return err })
	r.Refused("config list", func() error { _, err := cli.ConfigList(ctx, types.ConfigListOptions{}); return err })
	r.Refused("swarm inspect", func() error { _, err := cli.SwarmInspect(ctx); return err })
	r.Refused("network create", func() error {
		_, err := cli.NetworkCreate(ctx, r.Unique+"-net", types.NetworkCreate{Internal: true})
		return err
	})
	r.Refused("info", func() error { _, err := cli.Info(ctx); return err })
	r.Refused("image list", func() error { _, err := cli.ImageList(ctx, types.ImageListOptions{}); return err })
	r.Done()
}

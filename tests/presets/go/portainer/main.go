// Portainer: its snapshot (pkg/snapshot/docker.go: Ping, Info, ContainerList,
// ContainerInspect, ImageList, VolumeList, NetworkList, ServerVersion; the
// swarm lists on a manager) and what its UI sends through its Docker proxy
// (app/docker/rest/*.js): containers from create to remove with logs, stats,
// top, update and the console (exec create, start attached, resize,
// inspect), files put into a container (PUT archive), commit, images (pull,
// push, tag, history, build, download = /images/get, load, remove), networks
// and volumes from create to remove, events, /system/df, plugins, registry
// login (/auth), swarm, services, tasks, nodes, secrets, configs.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"spreplay/replay"
)

// tarOf returns a tar holding the given files.
func tarOf(files map[string]string) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)})
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	return &buf
}

func main() {
	r := replay.New()
	ctx, cli := r.Ctx, r.Cli
	u := r.Unique
	// the snapshot
	r.Ok("info", func() error { _, err := cli.Info(ctx); return err })
	r.Ok("container list all", r.ListAll)
	r.Ok("container inspect", r.Inspect)
	r.Ok("image list", func() error { _, err := cli.ImageList(ctx, types.ImageListOptions{}); return err })
	r.Ok("volume list", func() error { _, err := cli.VolumeList(ctx, replay.Filters()); return err })
	r.Ok("network list", func() error { _, err := cli.NetworkList(ctx, types.NetworkListOptions{}); return err })
	r.Ok("version", func() error { _, err := cli.ServerVersion(ctx); return err })
	r.Ok("system df", func() error { _, err := cli.DiskUsage(ctx); return err })
	r.Ok("plugin list", func() error { _, err := cli.PluginList(ctx, replay.Filters()); return err })
	r.Ok("events since/until", func() error {
		msgs, errs := cli.Events(ctx, types.EventsOptions{Since: r.Since, Until: strconv.FormatInt(time.Now().Unix(), 10)})
		for {
			select {
			case _, ok := <-msgs:
				if !ok {
					return nil
				}
			case err := <-errs:
				if err != nil && err.Error() != "EOF" {
					return err
				}
				return nil
			case <-time.After(15 * time.Second):
				return errors.New("the events stream with until did not end")
			}
		}
	})
	// swarm (the daemon is no manager: its 503 is fine)
	r.Reached("swarm inspect", func() error { _, err := cli.SwarmInspect(ctx); return err })
	r.Reached("service list", func() error { _, err := cli.ServiceList(ctx, types.ServiceListOptions{}); return err })
	r.Reached("task list", func() error { _, err := cli.TaskList(ctx, types.TaskListOptions{}); return err })
	r.Reached("node list", func() error { _, err := cli.NodeList(ctx, types.NodeListOptions{}); return err })
	r.Reached("secret list", func() error { _, err := cli.SecretList(ctx, types.SecretListOptions{}); return err })
	r.Reached("config list", func() error { _, err := cli.ConfigList(ctx, types.ConfigListOptions{}); return err })

	// a container's life in the UI
	var id string
	r.Ok("container create", func() error {
		c, err := cli.ContainerCreate(ctx, &container.Config{Image: r.Image, Cmd: []string{"sh", "-c", "echo ready; echo oops >&2; while sleep 1; do :; done"}},
			&container.HostConfig{NetworkMode: "none"}, &network.NetworkingConfig{}, nil, u+"-c")
		id = c.ID
		return err
	})
	if id == "" {
		r.Done()
	}
	r.Container = id
	r.Ok("container start", func() error { return cli.ContainerStart(ctx, id, types.ContainerStartOptions{}) })
	r.Ok("container logs", func() error {
		time.Sleep(300 * time.Millisecond)
		return r.Logs(types.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Tail: "100"})
	})
	r.Ok("container stats stream=0", r.StatsOnce)
	r.Ok("container top", func() error { _, err := cli.ContainerTop(ctx, id, []string{"aux"}); return err })
	r.Ok("container update", func() error {
		_, err := cli.ContainerUpdate(ctx, id, container.UpdateConfig{RestartPolicy: container.RestartPolicy{Name: "unless-stopped"}})
		return err
	})
	var execID string
	r.Ok("exec create + start attached (console)", func() error {
		var out string
		var err error
		execID, out, err = r.ExecRun("echo", "console")
		if err == nil && out != "console\n" {
			err = errors.New("exec output " + out)
		}
		return err
	})
	r.Reached("exec resize", func() error {
		return cli.ContainerExecResize(ctx, execID, types.ResizeOptions{Height: 40, Width: 100})
	})
	r.Ok("exec inspect", func() error { _, err := cli.ContainerExecInspect(ctx, execID); return err })
	r.Ok("container archive put (upload a file)", func() error {
		return cli.CopyToContainer(ctx, id, "/tmp", tarOf(map[string]string{"hello.txt": "hi\n"}), types.CopyToContainerOptions{})
	})
	r.Ok("container rename", func() error { return cli.ContainerRename(ctx, id, u+"-renamed") })
	r.Ok("container pause", func() error { return cli.ContainerPause(ctx, id) })
	r.Ok("container unpause", func() error { return cli.ContainerUnpause(ctx, id) })
	zero := time.Duration(0)
	r.Ok("container restart", func() error { return cli.ContainerRestart(ctx, id, &zero) })
	r.Ok("container kill", func() error { return cli.ContainerKill(ctx, id, "SIGKILL") })
	r.Ok("container stop", func() error { return cli.ContainerStop(ctx, id, &zero) })
	commitRef := u + "-commit:1"
	r.Ok("container commit", func() error {
		_, err := cli.ContainerCommit(ctx, id, types.ContainerCommitOptions{Reference: commitRef})
		return err
	})
	r.Ok("container remove", func() error { return cli.ContainerRemove(ctx, id, types.ContainerRemoveOptions{Force: true}) })

	// images
	r.Ok("image inspect", func() error { _, _, err := cli.ImageInspectWithRaw(ctx, r.Image); return err })
	r.Ok("image history", func() error { _, err := cli.ImageHistory(ctx, r.Image); return err })
	pushRef := "127.0.0.1:1/" + u + ":1"
	r.Ok("image tag", func() error { return cli.ImageTag(ctx, r.Image, pushRef) })
	r.Reached("image push", func() error {
		return replay.Drain(cli.ImagePush(ctx, pushRef, types.ImagePushOptions{RegistryAuth: "e30="}))
	})
	r.Reached("image pull", func() error {
		return replay.Drain(cli.ImagePull(ctx, "127.0.0.1:1/"+u+"-absent:1", types.ImagePullOptions{RegistryAuth: "e30="}))
	})
	r.Reached("registry login (/auth)", func() error {
		_, err := cli.RegistryLogin(ctx, types.AuthConfig{ServerAddress: "127.0.0.1:1", Username: "u", Password: "p"})
		return err
	})
	buildRef := u + "-build:1"
	r.Ok("image build", func() error {
		ctxTar := tarOf(map[string]string{"Dockerfile": "FROM " + r.Image + "\nLABEL sp.portainer=build\n"})
		resp, err := cli.ImageBuild(ctx, ctxTar, types.ImageBuildOptions{Tags: []string{buildRef}, Remove: true})
		if err != nil {
			return err
		}
		return replay.Drain(resp.Body, nil)
	})
	var saved bytes.Buffer
	r.Ok("image download (/images/get)", func() error {
		rc, err := cli.ImageSave(ctx, []string{buildRef})
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = saved.ReadFrom(rc)
		return err
	})
	r.Ok("image load", func() error {
		resp, err := cli.ImageLoad(ctx, &saved, true)
		if err != nil {
			return err
		}
		return replay.Discard(resp.Body, nil)
	})
	for _, ref := range []string{pushRef, buildRef, commitRef} {
		ref := ref
		r.Ok("image remove "+strings.SplitN(ref, ":", 2)[0], func() error {
			_, err := cli.ImageRemove(ctx, ref, types.ImageRemoveOptions{Force: true})
			return err
		})
	}

	// networks and volumes
	var netID string
	r.Ok("network create", func() error {
		n, err := cli.NetworkCreate(ctx, u+"-net", types.NetworkCreate{Internal: true})
		netID = n.ID
		return err
	})
	r.Ok("network inspect", func() error { _, err := cli.NetworkInspect(ctx, netID, types.NetworkInspectOptions{}); return err })
	r.Ok("network remove", func() error { return cli.NetworkRemove(ctx, netID) })
	r.Ok("volume create", func() error {
		_, err := cli.VolumeCreate(ctx, volume.VolumeCreateBody{Name: u + "-vol"})
		return err
	})
	r.Ok("volume inspect", func() error { _, err := cli.VolumeInspect(ctx, u+"-vol"); return err })
	r.Ok("volume remove", func() error { return cli.VolumeRemove(ctx, u+"-vol", true) })

	// never part of Portainer's calls
	r.Refused("distribution inspect", func() error { _, err := cli.DistributionInspect(ctx, r.Image, ""); return err })
	r.Refused("session (BuildKit)", func() error { return r.RawRefused("POST", "/session") })
	r.Refused("grpc (BuildKit)", func() error { return r.RawRefused("POST", "/grpc") })
	r.Refused("libpod container list", func() error { return r.RawRefused("GET", "/v4.0.0/libpod/containers/json") })
	r.Done()
}

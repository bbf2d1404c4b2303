// Homepage's Docker widget (src/utils/docker/*.js, src/pages/api/docker/*):
// dockerode on the socket, listContainers({all: true}), then per service
// getContainer(name).inspect() for its status and .stats({stream: false})
// for its stats. Swarm mode (listServices, listTasks) is opt-in in Homepage
// and not in the preset. Lines as tests/presets/go/replay prints them.
"use strict";
const Docker = require("dockerode");

const [socketPath, name, image] = process.argv.slice(2);
const docker = new Docker({ socketPath });
const container = docker.getContainer(name);
let failed = 0;

// The proxy's own 403: {"message": "socket-proxy: ..."}; dockerode parses the
// body for plain calls (e.json) and keeps it in the message for streams.
const proxyRefused = (e) =>
  e &&
  e.statusCode === 403 &&
  (e.json && typeof e.json.message === "string"
    ? e.json.message.startsWith("socket-proxy: ")
    : / - socket-proxy: /.test(e.message));

const oneLine = (e) => String((e && e.message) || e).replace(/\n/g, " ");

async function ok(what, f) {
  try {
    await f();
    console.log(`ok ${what}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${what}: ${oneLine(e)}`);
  }
}

async function refused(what, f) {
  try {
    await f();
    failed++;
    console.log(`FAIL ${what}: expected the proxy's 403, the call succeeded`);
  } catch (e) {
    if (proxyRefused(e)) {
      console.log(`refused ${what}`);
    } else {
      failed++;
      console.log(`FAIL ${what}: expected the proxy's 403, got: ${oneLine(e)}`);
    }
  }
}

async function main() {
  await ok("listContainers all", async () => {
    const list = await docker.listContainers({ all: true });
    if (!list.some((c) => c.Names.includes("/" + name))) throw new Error(`${name} not in the list`);
  });
  await ok("container inspect", async () => {
    const info = await container.inspect();
    if (info.State.Status !== "running") throw new Error(`state ${info.State.Status}`);
  });
  await ok("container stats stream=false", async () => {
    const stats = await container.stats({ stream: false });
    if (!stats.memory_stats) throw new Error("no memory_stats");
  });

  await refused("container logs", () => container.logs({ stdout: true, stderr: true, tail: 10 }));
  await refused("container restart", () => container.restart());
  await refused("container stop", () => container.stop());
  await refused("exec create", () => container.exec({ Cmd: ["true"] }));
  await refused("createContainer", () => docker.createContainer({ Image: image, HostConfig: { NetworkMode: "none" } }));
  await refused("container top", () => container.top());
  await refused("getEvents", () => docker.getEvents({ since: 0, until: 1 }));
  await refused("listImages", () => docker.listImages());
  await refused("info", () => docker.info());
  await refused("listServices (swarm mode is opt-in)", () => docker.listServices());
  if (failed) console.log(`${failed} call(s) failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL replay: ${oneLine(e)}`);
  process.exit(1);
});

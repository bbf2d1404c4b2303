/* The body judge (rules/body.c): a row per refused field and per bypass
 * spelling (case, ſ and K folds, repeated keys, the create body's top-level
 * HostConfig fields, wrong types, trailing values, bad UTF-8, dot segments,
 * the Docker socket), and the bodies that must pass, among them ones captured
 * from the docker CLI (28.2) against a recording socket; the same for
 * Podman's libpod bodies (SpecGenerator, pods, update, volumes) and the
 * libpod requests judged on their head (play/kube, restore, secrets). */
#include <stdlib.h>
#include <string.h>

#include "rules/body.h"
#include "unit.h"

/* Bodies the docker CLI 28.2 sent (a Python Unix-socket server recorded them). */
/* docker create --name web -p 8080:80 -e FOO=bar -v data:/data --mount type=volume,src=cache,dst=/cache
 *   --tmpfs /run --restart unless-stopped -l app=web --memory 256m nginx:alpine sh -c 'echo hi' */
static const char cli_run_create[] =
    "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,\"ExposedPorts\":{\"80/tcp\":{}},\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"FOO=bar\"],\"Cmd\":[\"sh\",\"-c\",\"echo hi\"],\"Image\":\"nginx:alpine\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{\"app\":\"web\"},\"HostConfig\":{\"Binds\":[\"data:/data\"],\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]},\"RestartPolicy\":{\"Name\":\"unless-stopped\",\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"Tmpfs\":{\"/run\":\"\"},\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":268435456,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"cache\",\"Target\":\"/cache\"}],\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}\n";
static const char cli_priv_create[] =
    "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":null,\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":[\"/:/host\"],\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"host\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":[\"CAP_SYS_ADMIN\"],\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"host\",\"Privileged\":true,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":[\"seccomp=unconfined\"],\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[{\"PathOnHost\":\"/dev/fuse\",\"PathInContainer\":\"/dev/fuse\",\"CgroupPermissions\":\"rwm\"}],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc\",\"Target\":\"/e\"}],\"MaskedPaths\":[],\"ReadonlyPaths\":[]},\"NetworkingConfig\":{\"EndpointsConfig\":{}}}\n";
static const char cli_svc_create[] =
    "{\"Name\":\"s\",\"Labels\":{},\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"busybox:latest\",\"Env\":[\"A=b\"],\"Init\":false,\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/v\"}],\"DNSConfig\":{}},\"Resources\":{\"Limits\":{},\"Reservations\":{}},\"Placement\":{},\"ForceUpdate\":0},\"Mode\":{\"Replicated\":{}},\"EndpointSpec\":{\"Mode\":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishedPort\":80,\"PublishMode\":\"ingress\"}]}}\n";
static const char cli_vol_nfs[] =
    "{\"Driver\":\"local\",\"DriverOpts\":{\"device\":\":/export\",\"o\":\"addr=10.0.0.1,rw\",\"type\":\"nfs\"},\"Name\":\"nfsvol\"}\n";
static const char cli_exec[] =
    "{\"User\":\"0\",\"Privileged\":false,\"Tty\":false,\"AttachStdin\":false,\"AttachStderr\":true,\"AttachStdout\":true,\"Detach\":false,\"DetachKeys\":\"\",\"Env\":[\"X=1\"],\"WorkingDir\":\"\",\"Cmd\":[\"true\"]}\n";
/* Podman 5's remote client body (SpecGenerator), written by hand in its shape (no podman here to record
 * one): podman --remote create --name web -p 8080:80 -e A=1 -v data:/data --tmpfs /run alpine sleep 1 */
static const char podman_create[] =
    "{\"name\":\"web\",\"command\":[\"sleep\",\"1\"],\"env\":{\"A\":\"1\"},\"terminal\":false,\"stdin\":false,\"labels\":{},\"annotations\":{\"io.podman.annotations.autoremove\":\"FALSE\"},\"stop_signal\":15,\"log_configuration\":{\"driver\":\"journald\"},\"raw_image_name\":\"alpine\",\"systemd\":\"true\",\"sdnotifyMode\":\"container\",\"pidns\":{},\"utsns\":{},\"containerCreateCommand\":[\"podman\",\"--remote\",\"create\",\"--name\",\"web\",\"alpine\"],\"init_container_type\":\"\",\"image\":\"alpine\",\"image_volume_mode\":\"anonymous\",\"mounts\":[{\"destination\":\"/run\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"rw\",\"rprivate\",\"nosuid\",\"nodev\",\"tmpcopyup\"]}],\"volumes\":[{\"Name\":\"data\",\"Dest\":\"/data\",\"Options\":[],\"IsAnonymous\":false,\"SubPath\":\"\"}],\"ipcns\":{},\"shm_size\":65536000,\"selinux_opts\":null,\"userns\":{},\"idmappings\":{\"HostUIDMapping\":true,\"HostGIDMapping\":true,\"UIDMap\":null,\"GIDMap\":null,\"AutoUserNs\":false},\"cgroupns\":{},\"cgroups_mode\":\"enabled\",\"netns\":{\"nsmode\":\"bridge\"},\"portmappings\":[{\"host_ip\":\"\",\"container_port\":80,\"host_port\":8080,\"range\":1,\"protocol\":\"tcp\"}],\"Networks\":{\"podman\":{}},\"use_image_resolve_conf\":false,\"use_image_hosts\":false,\"seccomp_policy\":\"default\",\"healthLogDestination\":\"local\",\"healthMaxLogCount\":5,\"healthMaxLogSize\":500}\n";
/* podman --remote create --privileged --network host -v /:/host --cap-add SYS_ADMIN --device /dev/fuse alpine */
static const char podman_create_priv[] =
    "{\"name\":\"p\",\"privileged\":true,\"image\":\"alpine\",\"netns\":{\"nsmode\":\"host\"},\"cap_add\":[\"SYS_ADMIN\"],\"devices\":[{\"path\":\"/dev/fuse\"}],\"mounts\":[{\"destination\":\"/host\",\"type\":\"bind\",\"source\":\"/\",\"options\":[\"rbind\"]}],\"pidns\":{},\"utsns\":{},\"ipcns\":{},\"userns\":{},\"cgroupns\":{},\"seccomp_policy\":\"default\"}\n";
/* cli_priv_create: docker create --privileged --network host -v /:/host --mount type=bind,src=/etc,dst=/e
 *   --security-opt seccomp=unconfined --security-opt systempaths=unconfined --cap-add SYS_ADMIN
 *   --device /dev/fuse --pid host busybox
 * cli_svc_create: docker service create --name s --mount type=volume,src=v,dst=/v -p 80:80 -e A=b busybox
 * cli_vol_nfs: docker volume create -d local -o type=nfs -o o=addr=10.0.0.1,rw -o device=:/export nfsvol
 * cli_exec: docker exec -u 0 -e X=1 ID true */

#define A 0
#define D 403
#define B 400
#define CC BODY_CONTAINER_CREATE
#define CU BODY_CONTAINER_UPDATE
#define CS BODY_CONTAINER_START
#define EX BODY_EXEC_CREATE
#define SV BODY_SERVICE
#define VC BODY_VOLUME_CREATE
#define PL BODY_PLUGIN_PRIVILEGES
#define LC BODY_LIBPOD_CREATE
#define LU BODY_LIBPOD_UPDATE
#define LV BODY_LIBPOD_VOLUME
#define LP BODY_LIBPOD_POD

#define PRIV "ALLOW_PRIVILEGED"
#define NS "ALLOW_HOST_NAMESPACES"
#define CAP "ALLOW_CAPABILITIES"
#define DEV "ALLOW_DEVICES"
#define BND "ALLOW_BINDS"

/* the configured upstream socket and the host network's ID every row runs with */
#define UPSTREAM "/srv/dockerd/api.sock"
#define HOSTNET "f00dbabe0123456789abcdef0123456789abcdef0123456789abcdef01234567"

typedef struct {
    body_kind kind;
    const char *allow; /* letters: P privileged, N host namespaces, C capabilities, D devices; V: cgroup v1 daemon */
    const char *binds; /* ALLOW_BINDS, NULL unset */
    const char *body;
    int status;
    const char *var;
    const char *why; /* a part of the verdict's why, or NULL */
} row;

static const row rows[] = {
    /* ---- realistic bodies pass; their dangerous twins do not ---- */
    {CC, "", NULL, cli_run_create, A},
    {CC, "", NULL, cli_priv_create, D, PRIV, "HostConfig.Privileged is true"},
    {CC, "P", NULL, cli_priv_create, D, NS, "NetworkMode is host"},
    {CC, "PN", NULL, cli_priv_create, D, CAP, "CapAdd adds CAP_SYS_ADMIN"},
    {CC, "PNC", NULL, cli_priv_create, D, DEV, "Devices is not empty"},
    {CC, "PNCD", NULL, cli_priv_create, D, BND, "host path /"},
    {CC, "PNCD", "/etc", cli_priv_create, D, BND, "Binds entry \"/:/host\""},
    {CC, "PNCD", "/", cli_priv_create, A},
    {SV, "", NULL, cli_svc_create, A},
    {VC, "", NULL, cli_vol_nfs, A},
    {EX, "", NULL, cli_exec, A},
    {CC, "", NULL, "", A},
    {CC, "", NULL, "null", A},
    {CC, "", NULL, " {} \n", A},
    {CS, "", NULL, "", A},
    {BODY_NONE, "", NULL, "{\"Privileged\":true} garbage", A},

    /* ---- ALLOW_PRIVILEGED ---- */
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":true}}", D, PRIV, "HostConfig.Privileged is true"},
    {CC, "P", NULL, "{\"HostConfig\":{\"Privileged\":true}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":false}}", A},
    {CC, "", NULL, "{\"hostconfig\":{\"privileged\":true}}", D, PRIV},
    {CC, "", NULL, "{\"HOSTCONFIG\":{\"PRIVILEGED\":true}}", D, PRIV},
    {CC, "", NULL, "{\"Ho\xc5\xbftConfig\":{\"Privileged\":true}}", D, PRIV},      /* ſ folds to s */
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":true}}", D, PRIV},
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":true}}", D, PRIV},
    {CC, "", NULL, "{\"HostConfig\":{\"Privilegeds\":true}}", A},                  /* not a field */
    {CC, "", NULL, "{\"Ho\\u0073tConfig\":{\"Privileged\":true}}", D, PRIV},      /* escapes decode */
    {CC, "", NULL, "{\"Ho\\u017ftConfig\":{\"Privileged\":true}}", D, PRIV},      /* escaped ſ */
    {CC, "", NULL, "{\"HostConfig\":{\"Privileg\\u0065d\":true}}", D, PRIV},
    {CC, "", NULL, "{\"Privileged\":true}", D, PRIV, "Privileged is true"}, /* deprecated top level */
    {CC, "", NULL, "{\"Image\":\"x\",\"HostConfig\":{},\"privileged\":true}", D, PRIV},
    {CC, "", NULL, "{\"HostConfig\":null,\"Privileged\":true}", D, PRIV},
    {CC, "", NULL, "{\"HostConfig\":null}", A},
    {CC, "", NULL, "{\"Image\":\"alpine\"}", A},
    {EX, "", NULL, "{\"Privileged\":true,\"Cmd\":[\"sh\"]}", D, PRIV, "exec Privileged"},
    {EX, "", NULL, "{\"privileged\":true}", D, PRIV},
    {EX, "P", NULL, "{\"Privileged\":true}", A},
    {EX, "", NULL, "{\"Privileged\":false,\"privileged\":true}", B, NULL, "twice"},
    {EX, "", NULL, "{\"Privileged\":\"true\"}", B},
    {CS, "", NULL, "{\"Privileged\":true}", D, PRIV, "HostConfig.Privileged"},
    {CS, "", NULL, "{\"Binds\":[\"/:/h\"]}", D, BND},
    {CS, "", NULL, "{\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"80\"}]}}", A},
    {PL, "", NULL, "[{\"Name\":\"network\",\"Description\":\"\",\"Value\":[\"host\"]}]", D, PRIV, "network"},
    {PL, "", NULL, "[{\"name\":\"mount\",\"Value\":[\"/\"]}]", D, PRIV, "mount"},
    {PL, "P", NULL, "[{\"Name\":\"network\",\"Value\":[\"host\"]}]", A},
    {PL, "", NULL, "[]", A},
    {PL, "", NULL, "null", A},
    {PL, "", NULL, "{\"Name\":\"network\"}", B},
    {PL, "", NULL, "[1]", D, PRIV},
    {SV, "", NULL, "{\"TaskTemplate\":{\"PluginSpec\":{\"Privileges\":[{\"Name\":\"x\"}]}}}", D, PRIV},

    /* ---- duplicate keys: Go takes the last, cJSON the first ---- */
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":false,\"Privileged\":true}}", B, NULL, "twice"},
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":false,\"PRIVILEGED\":true}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":false,\"Privileged\":false}}", B},
    {CC, "", NULL, "{\"HostConfig\":{},\"Hostconfig\":{\"Privileged\":true}}", B},
    {CC, "", NULL, "{\"HostConfig\":{},\"Ho\xc5\xbftConfig\":{\"Privileged\":true}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"NetworkMode\":\"bridge\",\"Networ\xe2\x84\xaaMode\":\"host\"}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":[],\"binds\":[\"/:/h\"]}}", B},
    {CC, "", NULL, "{\"Labels\":{\"a\":\"1\",\"A\":\"2\"}}", A}, /* maps keep exact keys */
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{},\"containerspec\":{\"CapabilityAdd\":[\"ALL\"]}}}", B},
    {VC, "", NULL, "{\"DriverOpts\":{\"o\":\"rw\",\"O\":\"bind\",\"device\":\"/\"}}", B},

    /* ---- wrong types ---- */
    {CC, "", NULL, "{\"HostConfig\":\"privileged\"}", B, NULL, "HostConfig is not an object"},
    {CC, "", NULL, "{\"HostConfig\":[{\"Privileged\":true}]}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":1}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":\"true\"}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Privileged\":null}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"NetworkMode\":[\"host\"]}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":\"/:/h\"}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":[{\"Source\":\"/\"}]}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"CapAdd\":\"ALL\"}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":{\"Type\":\"bind\"}}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[\"/:/h\"]}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Sysctls\":[\"a=b\"]}}", B},
    {CC, "", NULL, "[]", B},
    {CC, "", NULL, "\"x\"", B},
    {VC, "", NULL, "{\"DriverOpts\":{\"device\":[\"/\"]}}", B},
    {VC, "", NULL, "{\"DriverOpts\":\"o=bind\"}", B},

    /* ---- one JSON value, valid UTF-8 ---- */
    {CC, "", NULL, "{} {\"HostConfig\":{\"Privileged\":true}}", B, NULL, "more than one"},
    {CC, "", NULL, "{}x", B},
    {CC, "", NULL, "{\"HostConfig\":{}}}", B},
    {CC, "", NULL, "{\"HostConfig\":{", B},
    {CC, "", NULL, "{\"Image\":\"\xff\"}", B, NULL, "UTF-8"},
    {CC, "", NULL, "{\"Image\":\"\xc0\xaf\"}", B},             /* overlong */
    {CC, "", NULL, "{\"Image\":\"\xed\xa0\x80\"}", B},         /* surrogate */
    {CC, "", NULL, "{\"Image\":\"\xc5\"}", B},                 /* truncated */
    {CC, "", NULL, "\xef\xbb\xbf{}", B},                       /* byte order mark */
    {CC, "", NULL, "{\"Image\":\"a\\u0000b\"}", B, NULL, "u0000"},
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":[\"/etc\\u0000:/x\"]}}", B},
    {CC, "", NULL, "{\"Image\":\"\\ud800\"}", B},              /* lone surrogate escape */
    {CC, "", NULL, "{\"Image\":\"\xf0\x9f\x90\xb3\"}", A},     /* a real 4-byte character */
    /* gojson_clean_bytes reads 8 printable ASCII bytes at a time: what it
     * refuses or lets through at every place in and across such words */
    {CC, "", NULL, "{\"Image\":\"abcdefghijklmnop\x01qrstuvwxyz\"}", B, NULL, "UTF-8"},
    {CC, "", NULL, "{\"Image\":\"abcdefghijklmno\x1fqrstuvwxyz\"}", B},
    {CC, "", NULL, "{\"Image\":\"abcdefghijklmnopqrstuvwxyz0123\x7f\"}", A}, /* DEL: JSON allows it */
    {CC, "", NULL, "{\"Image\":\"abcdefghijklmnopqrstuvwxyz012\x80\"}", B},
    {CC, "", NULL, "{\"Image\":\"abcdefghijklm\xc3\xa9nopqrstuvwxyz\"}", A}, /* é across two words */
    {CC, "", NULL, "{\"Image\":\"abcdefghijklmn\xe2\x82\xacopqrstuvwxyz\"}", A},
    {CC, "", NULL, "{\"Image\":\"abcdefghijklmn\xe2\x82opqrstuvwxyz\"}", B}, /* truncated inside */
    {CC, "", NULL, "{\"Image\":\"abcdefghijklmnop\xc0\xafqrstuvwxyz\"}", B}, /* overlong */
    {CC, "", NULL, "{\"Image\":\n\t\"abcdefghijklmnopqrstuvwxyz\"\r\n}", A}, /* whitespace between */
    {CC, "", NULL, "{\"Image\":\"abcdefghijklmnopqrstuvwxyz\"}\x01", B},    /* after the last word */
    {CC, "", NULL, "{\"Image\":\"\\ud83d\\udc33\"}", A},

    /* ---- ALLOW_HOST_NAMESPACES ---- */
    {CC, "", NULL, "{\"HostConfig\":{\"NetworkMode\":\"host\"}}", D, NS, "HostConfig.NetworkMode is host"},
    {CC, "", NULL, "{\"HostConfig\":{\"NetworkMode\":\"HOST\"}}", D, NS},
    {CC, "", NULL, "{\"HostConfig\":{\"PidMode\":\"host\"}}", D, NS, "PidMode"},
    {CC, "", NULL, "{\"HostConfig\":{\"IpcMode\":\"host\"}}", D, NS},
    {CC, "", NULL, "{\"HostConfig\":{\"UTSMode\":\"host\"}}", D, NS},
    {CC, "", NULL, "{\"HostConfig\":{\"UsernsMode\":\"host\"}}", D, NS},
    {CC, "", NULL, "{\"HostConfig\":{\"CgroupnsMode\":\"host\"}}", D, NS},
    /* on a cgroup v1 daemon "host" is the default cgroupns mode: asking for it asks for nothing more */
    {CC, "V", NULL, "{\"HostConfig\":{\"CgroupnsMode\":\"host\"}}", A},
    {CC, "V", NULL, "{\"HostConfig\":{\"CgroupnsMode\":\"HOST\"}}", A},
    {CC, "V", NULL, "{\"CgroupnsMode\":\"host\"}", A},
    {CC, "V", NULL, "{\"HostConfig\":{\"CgroupnsMode\":\"host\",\"PidMode\":\"host\"}}", D, NS, "PidMode"},
    {CC, "V", NULL, "{\"HostConfig\":{\"UsernsMode\":\"host\"}}", D, NS},
    {CC, "", NULL, "{\"HostConfig\":{\"PidMode\":\"container:abc\"}}", D, NS, "another container"},
    {CC, "", NULL, "{\"HostConfig\":{\"IpcMode\":\"container:abc\"}}", D, NS},
    {CC, "", NULL, "{\"HostConfig\":{\"NetworkMode\":\"container:abc\"}}", D, NS},
    {CC, "", NULL, "{\"NetworkMode\":\"host\"}", D, NS},
    {CC, "", NULL, "{\"HostConfig\":{\"NetworkMode\":\"bridge\",\"IpcMode\":\"private\",\"CgroupnsMode\":\"private\"}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"NetworkMode\":\"mynet\"}}", A},
    {CC, "N", NULL, "{\"HostConfig\":{\"NetworkMode\":\"host\",\"PidMode\":\"host\"}}", A},
    {CC, "", NULL, "{\"NetworkingConfig\":{\"EndpointsConfig\":{\"host\":{}}}}", D, NS},
    {CC, "", NULL, "{\"NetworkingConfig\":{\"EndpointsConfig\":{\"mynet\":{}}}}", A},
    {SV, "", NULL, "{\"TaskTemplate\":{\"Networks\":[{\"Target\":\"host\"}]}}", D, NS, "host network"},
    {SV, "", NULL, "{\"TaskTemplate\":{\"Networks\":[{\"Target\":\"f00dbabe01\"}]}}", D, NS},
    {SV, "", NULL, "{\"TaskTemplate\":{\"Networks\":[{\"Target\":\"" HOSTNET "\"}]}}", D, NS},
    {SV, "", NULL, "{\"Networks\":[{\"target\":\"host\"}]}", D, NS},
    {SV, "", NULL, "{\"TaskTemplate\":{\"Networks\":[{\"Target\":\"overlay1\"}]}}", A},
    {SV, "N", NULL, "{\"TaskTemplate\":{\"Networks\":[{\"Target\":\"host\"}]}}", A},

    /* ---- ALLOW_CAPABILITIES ---- */
    {CC, "", NULL, "{\"HostConfig\":{\"CapAdd\":[\"NET_ADMIN\"]}}", D, CAP, "CapAdd adds NET_ADMIN"},
    {CC, "", NULL, "{\"HostConfig\":{\"CapAdd\":[]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"CapAdd\":null,\"CapDrop\":[\"ALL\"]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"Capabilities\":[\"CAP_SYS_ADMIN\"]}}", D, CAP},
    {CC, "C", NULL, "{\"HostConfig\":{\"CapAdd\":[\"ALL\"]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\"]}}", D, CAP, "seccomp=unconfined"},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"seccomp:unconfined\"]}}", D, CAP},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\"}\"]}}", D, CAP},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"apparmor=unconfined\"]}}", D, CAP},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"label=disable\"]}}", D, CAP},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"label:disable\"]}}", D, CAP},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"label=type:spc_t\"]}}", D, CAP},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"systempaths=unconfined\"]}}", D, CAP},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"SECCOMP=unconfined\"]}}", D, CAP},
    {CC, "", NULL, "{\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges\",\"no-new-privileges=true\",\"label=level:s0:c1,c2\",\"apparmor=docker-default\",\"seccomp=builtin\"]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}}", D, CAP, "Sysctls"},
    {CC, "", NULL, "{\"HostConfig\":{\"Sysctls\":{}}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"MaskedPaths\":[]}}", D, CAP, "MaskedPaths drops the default /proc/asound"},
    {CC, "", NULL, "{\"HostConfig\":{\"ReadonlyPaths\":[]}}", D, CAP, "ReadonlyPaths drops the default /proc/bus"},
    {CC, "", NULL, "{\"HostConfig\":{\"ReadonlyPaths\":[\"/nothing\"]}}", D, CAP, "drops the default"},
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":[\"C:\\\\:/host\"]}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":[\"vol:data\"]}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":[\"vol:/data:ro\"]}}", A},
    /* the lists an inspect answer shows (a recreate copies them): the defaults, in any order, plus more */
    {CC, "", NULL, "{\"HostConfig\":{\"MaskedPaths\":[\"/proc/asound\",\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/proc/scsi\",\"/sys/firmware\"],\"ReadonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"MaskedPaths\":[\"/proc/asound\",\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/proc/scsi\",\"/sys/firmware\",\"/sys/devices/virtual/powercap\"],\"ReadonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\",\"/x\"]}}", A},
    {CU, "", NULL, "{\"MaskedPaths\":[\"/proc/asound\",\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/proc/scsi\",\"/sys/firmware\"]}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"MaskedPaths\":[\"/proc/asound\",\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/proc/scsi\"]}}", D, CAP, "MaskedPaths drops the default /sys/firmware"},
    {CC, "", NULL, "{\"HostConfig\":{\"MaskedPaths\":[\"/proc/asound\",\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/proc/scsi\",\"/sys/firmware/\"]}}", D, CAP, "drops the default /sys/firmware"},
    {CC, "", NULL, "{\"HostConfig\":{\"ReadonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\"]}}", D, CAP, "ReadonlyPaths drops the default /proc/sysrq-trigger"},
    {CC, "", NULL, "{\"HostConfig\":{\"ReadonlyPaths\":[\"/PROC/BUS\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}", D, CAP, "drops the default /proc/bus"},
    {CC, "", NULL, "{\"HostConfig\":{\"ReadonlyPaths\":[\"/proc/bus\",1]}}", B},
    {CC, "C", NULL, "{\"HostConfig\":{\"MaskedPaths\":[],\"ReadonlyPaths\":[]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"MaskedPaths\":null,\"ReadonlyPaths\":null}}", A},
    {CC, "C", NULL, "{\"HostConfig\":{\"MaskedPaths\":[],\"SecurityOpt\":[\"seccomp=unconfined\"]}}", A},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{\"CapabilityAdd\":[\"CAP_SYS_ADMIN\"]}}}", D, CAP, "CapabilityAdd"},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{\"Sysctls\":{\"kernel.x\":\"1\"}}}}", D, CAP},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{\"Privileges\":{\"Seccomp\":{\"Mode\":\"unconfined\"}}}}}", D, CAP},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{\"Privileges\":{\"Seccomp\":{\"Mode\":\"custom\",\"Profile\":\"e30=\"}}}}}", D, CAP},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{\"Privileges\":{\"AppArmor\":{\"Mode\":\"disabled\"}}}}}", D, CAP},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{\"Privileges\":{\"SELinuxContext\":{\"Disable\":true}}}}}", D, CAP},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{\"Privileges\":{\"NoNewPrivileges\":true,\"Seccomp\":{\"Mode\":\"default\"},\"AppArmor\":{\"Mode\":\"default\"}}}}}", A},

    /* ---- ALLOW_DEVICES ---- */
    {CC, "", NULL, "{\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/sda\",\"PathInContainer\":\"/dev/sda\",\"CgroupPermissions\":\"rwm\"}]}}", D, DEV, "Devices"},
    {CC, "", NULL, "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"nvidia\",\"Count\":-1}]}}", D, DEV, "DeviceRequests"},
    {CC, "", NULL, "{\"HostConfig\":{\"DeviceCgroupRules\":[\"c *:* rwm\"]}}", D, DEV, "DeviceCgroupRules"},
    {CC, "", NULL, "{\"HostConfig\":{\"Devices\":[],\"DeviceRequests\":null,\"DeviceCgroupRules\":[]}}", A},
    {CC, "D", NULL, "{\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/fuse\"}]}}", A},
    {CU, "", NULL, "{\"Devices\":[{\"PathOnHost\":\"/dev/mem\"}]}", D, DEV},
    {CU, "", NULL, "{\"DeviceCgroupRules\":[\"b 8:* rwm\"]}", D, DEV},
    {CU, "", NULL, "{\"Memory\":268435456,\"RestartPolicy\":{\"Name\":\"always\"}}", A},
    {CU, "", NULL, "{\"Memory\":1,\"memory\":2}", A}, /* repeats of fields nobody judges */

    /* ---- ALLOW_BINDS: Binds ---- */
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":[\"/etc:/etc\"]}}", D, BND, "host path /etc"},
    {CC, "", NULL, "{\"HostConfig\":{\"Binds\":[\"data:/data\",\"/only-a-target\",\"v:/v:ro\"]}}", A},
    {CC, "", "/srv,/data", "{\"HostConfig\":{\"Binds\":[\"/srv/app:/app:ro\",\"/data:/d\"]}}", A},
    {CC, "", "/srv,/data", "{\"HostConfig\":{\"Binds\":[\"/srv:/app\"]}}", A},
    {CC, "", "/srv,/data", "{\"HostConfig\":{\"Binds\":[\"/srvx:/app\"]}}", D, BND}, /* whole segments */
    {CC, "", "/srv,/data", "{\"HostConfig\":{\"Binds\":[\"/srv/../etc:/app\"]}}", D, BND, "/etc"},
    {CC, "", "/srv,/data", "{\"HostConfig\":{\"Binds\":[\"/srv/a/../../etc:/app\"]}}", D, BND},
    {CC, "", "/srv,/data", "{\"HostConfig\":{\"Binds\":[\"/srv/../../../:/app\"]}}", D, BND, "host path /"},
    {CC, "", "/srv,/data", "{\"HostConfig\":{\"Binds\":[\"//srv/./x//y:/app\"]}}", A},
    {CC, "", "/srv/,/data/.", "{\"HostConfig\":{\"Binds\":[\"/data/x:/app\"]}}", A},
    {CC, "", "/srv", "{\"HostConfig\":{\"Binds\":[\"/:/app\"]}}", D, BND},
    {CC, "", "/srv", "{\"HostConfig\":{\"Binds\":[\"/srv:/a:ro:extra\"]}}", B, NULL, "does not parse"},
    {CC, "", "/srv", "{\"HostConfig\":{\"Binds\":[\"\"]}}", B},
    {CC, "", "/srv", "{\"HostConfig\":{\"Binds\":[\"/srv::/a\"]}}", B},
    {CC, "", "/srv", "{\"HostConfig\":{\"Binds\":[\"/srv:\"]}}", B},
    {CC, "", NULL, "{\"Binds\":[\"/:/h\"]}", D, BND}, /* deprecated top level */
    {CC, "", NULL, "{\"HostConfig\":{\"VolumesFrom\":[\"other\"]}}", D, BND, "VolumesFrom"},
    {CC, "", "/", "{\"HostConfig\":{\"VolumesFrom\":[\"other:ro\"]}}", A},
    {CC, "", "/", "{\"HostConfig\":{\"Binds\":[\"/etc:/etc\",\"/:/host\"]}}", A},
    /* the Docker socket: only by its exact path, never through a parent, not even / */
    {CC, "", "/", "{\"HostConfig\":{\"Binds\":[\"/var/run/docker.sock:/s\"]}}", D, BND, "daemon's socket"},
    {CC, "", "/var/run", "{\"HostConfig\":{\"Binds\":[\"/var/run/docker.sock:/s\"]}}", D, BND},
    {CC, "", "/", "{\"HostConfig\":{\"Binds\":[\"/run/docker.sock:/s\"]}}", D, BND},
    {CC, "", "/", "{\"HostConfig\":{\"Binds\":[\"/var/run/../run/./docker.sock:/s\"]}}", D, BND},
    {CC, "", "/", "{\"HostConfig\":{\"Binds\":[\"//var//run/docker.sock:/s\"]}}", D, BND},
    {CC, "", "/", "{\"HostConfig\":{\"Binds\":[\"" UPSTREAM ":/s\"]}}", D, BND},
    {CC, "", "/srv", "{\"HostConfig\":{\"Binds\":[\"/srv/dockerd/x/../api.sock:/s\"]}}", D, BND},
    {CC, "", "/var/run/docker.sock", "{\"HostConfig\":{\"Binds\":[\"/var/run/docker.sock:/s\"]}}", A},
    {CC, "", "/var/run/docker.sock", "{\"HostConfig\":{\"Binds\":[\"/run/docker.sock:/s\"]}}", A},
    {CC, "", "/run/docker.sock", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/var/run/docker.sock\",\"Target\":\"/s\"}]}}", A},
    {CC, "", "/var/run/docker.sock", "{\"HostConfig\":{\"Binds\":[\"/var/run/docker.sock/..:/s\"]}}", D, BND},
    {CC, "", UPSTREAM, "{\"HostConfig\":{\"Binds\":[\"" UPSTREAM ":/s\"]}}", A},

    /* ---- ALLOW_BINDS: Mounts ---- */
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/\",\"Target\":\"/h\"}]}}", D, BND, "HostConfig.Mounts"},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[{\"type\":\"BIND\",\"source\":\"/etc\",\"Target\":\"/h\"}]}}", D, BND},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"/etc\",\"Target\":\"/h\"}]}}", D, BND},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"etc\",\"Target\":\"/h\"}]}}", B},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv\",\"Source\":\"/\"}]}}", B},
    {CC, "", "/srv", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/../etc\",\"Target\":\"/h\"}]}}", D, BND, "/etc"},
    {CC, "", "/srv", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/app\",\"Target\":\"/h\",\"BindOptions\":{\"Propagation\":\"rprivate\"}}]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"cache\",\"Target\":\"/c\"},{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":{\"SizeBytes\":1000}}]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/v\",\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"local\",\"Options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/\"}}}}]}}", D, BND, "DriverConfig.Options"},
    {CC, "", NULL, "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/v\",\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"local\",\"Options\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}}}}]}}", A},
    {CC, "", NULL, "{\"HostConfig\":{\"Tmpfs\":{\"/run\":\"size=64m\"},\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}]},\"RestartPolicy\":{\"Name\":\"always\"},\"Memory\":1048576,\"NanoCpus\":1000000000},\"Env\":[\"A=1\"],\"Labels\":{\"x\":\"y\"}}", A},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/\",\"Target\":\"/host\"}]}}}", D, BND, "TaskTemplate.ContainerSpec.Mounts"},
    {SV, "", "/srv", "{\"TaskTemplate\":{\"ContainerSpec\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/x\",\"Target\":\"/x\"}]}}}", A},
    {SV, "", NULL, "{\"taskTemplate\":{\"containerSpec\":{\"mounts\":[{\"type\":\"bind\",\"source\":\"/var/run/docker.sock\"}]}}}", D, BND},
    {SV, "", NULL, "{\"TaskTemplate\":{\"ContainerSpec\":\"x\"}}", B},

    /* ---- ALLOW_BINDS: local volumes ---- */
    {VC, "", NULL, "{\"Name\":\"v\",\"Driver\":\"local\",\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/\"}}", D, BND, "DriverOpts"},
    {VC, "", NULL, "{\"DriverOpts\":{\"o\":\"ro,rbind\",\"device\":\"/etc\"}}", D, BND},
    {VC, "", NULL, "{\"DriverOpts\":{\"type\":\"ext4\",\"device\":\"/dev/sda1\"}}", D, BND, "/dev/sda1"},
    {VC, "", NULL, "{\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"etc\"}}", B},
    {VC, "", "/srv", "{\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/srv/vol\"}}", A},
    {VC, "", "/srv", "{\"DriverOpts\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/srv/../\"}}", D, BND},
    {VC, "", NULL, "{\"DriverOpts\":{\"Type\":\"NONE\",\"O\":\"BIND\",\"Device\":\"/\"}}", D, BND},
    {VC, "", NULL, "{\"DriverOpts\":{\"type\":\"cifs\",\"device\":\"//server/share\",\"o\":\"username=u\"}}", A},
    {VC, "", NULL, "{\"Name\":\"plain\"}", A},
    {VC, "", NULL, "{\"Name\":\"t\",\"DriverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=100m\"}}", A},

    /* ---- Podman's libpod API: SpecGenerator, PodSpecGenerator, update, volume ---- */
    {LC, "", NULL, podman_create, A},
    {LC, "", NULL, podman_create_priv, D, PRIV, "privileged is true"},
    {LC, "P", NULL, podman_create_priv, D, NS, "netns is host"},
    {LC, "PN", NULL, podman_create_priv, D, CAP, "cap_add adds SYS_ADMIN"},
    {LC, "PNC", NULL, podman_create_priv, D, DEV, "devices is not empty"},
    {LC, "PNCD", NULL, podman_create_priv, D, BND, "host path /"},
    {LC, "PNCD", "/", podman_create_priv, A},
    {LC, "", NULL, "", A},
    {LC, "", NULL, "null", A},
    {LC, "", NULL, "{\"image\":\"alpine\"}", A},
    {LC, "", NULL, "[]", B},
    {LC, "", NULL, "{\"image\":\"alpine\"} {\"privileged\":true}", B, NULL, "more than one"},
    {LC, "", NULL, "{\"image\":\"\xff\"}", B},
    /* privileged, with Go's case folds and repeated keys */
    {LC, "", NULL, "{\"privileged\":true}", D, PRIV, "privileged is true"},
    {LC, "", NULL, "{\"Privileged\":true}", D, PRIV},
    {LC, "", NULL, "{\"PRIVILEGED\":true}", D, PRIV},
    {LC, "", NULL, "{\"\xc5\xbfysctl\":{\"a\":\"b\"}}", D, CAP},      /* ſ folds to s */
    {LC, "", NULL, "{\"unmas\xe2\x84\xaa\":[\"ALL\"]}", D, CAP},       /* K (Kelvin) folds to k */
    {LC, "", NULL, "{\"pr\\u0069vileged\":true}", D, PRIV},
    {LC, "", NULL, "{\"privileged\":false}", A},
    {LC, "", NULL, "{\"privileged\":null}", A},
    {LC, "P", NULL, "{\"privileged\":true}", A},
    {LC, "", NULL, "{\"privileged\":false,\"Privileged\":true}", B, NULL, "twice"},
    {LC, "", NULL, "{\"privileged\":\"true\"}", B},
    {LC, "", NULL, "{\"privileged\":1}", B},
    {LC, "", NULL, "{\"oci_runtime\":\"/var/lib/containers/storage/volumes/v/_data/x\"}", D, PRIV, "oci_runtime"},
    {LC, "", NULL, "{\"oci_runtime\":\"crun\"}", A},
    {LC, "P", NULL, "{\"oci_runtime\":\"/usr/bin/crun\"}", A},
    {LC, "", NULL, "{\"oci_runtime\":[\"/x\"]}", B},
    /* namespaces: host, path, container and modes unknown are refused; the modes that stay apart pass */
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"host\"}}", D, NS, "netns is host"},
    {LC, "", NULL, "{\"pidns\":{\"nsmode\":\"host\"}}", D, NS, "pidns is host"},
    {LC, "", NULL, "{\"ipcns\":{\"nsmode\":\"host\"}}", D, NS, "ipcns is host"},
    {LC, "", NULL, "{\"utsns\":{\"nsmode\":\"host\"}}", D, NS, "utsns is host"},
    {LC, "", NULL, "{\"userns\":{\"nsmode\":\"host\"}}", D, NS, "userns is host"},
    {LC, "", NULL, "{\"cgroupns\":{\"nsmode\":\"host\"}}", D, NS, "cgroupns is host"},
    {LC, "V", NULL, "{\"cgroupns\":{\"nsmode\":\"host\"}}", A},
    {LC, "V", NULL, "{\"pidns\":{\"nsmode\":\"host\"}}", D, NS},
    {LC, "", NULL, "{\"NetNS\":{\"NSMode\":\"host\"}}", D, NS},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"HOST\"}}", D, NS},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"path\",\"value\":\"/proc/1/ns/net\"}}", D, NS, "/proc/1/ns/net"},
    {LC, "", NULL, "{\"pidns\":{\"nsmode\":\"container\",\"value\":\"web\"}}", D, NS, "another container"},
    {LC, "", NULL, "{\"utsns\":{\"nsmode\":\"container\",\"value\":\"web\"}}", D, NS},
    {LC, "", NULL, "{\"userns\":{\"nsmode\":\"ns\",\"value\":\"/proc/1/ns/user\"}}", D, NS, "not one known"},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"Private\"}}", D, NS},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"private\",\"nsmode\":\"host\"}}", B, NULL, "twice"},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"private\"},\"NETNS\":{\"nsmode\":\"host\"}}", B},
    {LC, "", NULL, "{\"netns\":\"host\"}", B},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":[\"host\"]}}", B},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"path\",\"value\":[\"/proc/1/ns/net\"]}}", B},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"bridge\"},\"pidns\":{\"nsmode\":\"private\"},\"ipcns\":{\"nsmode\":\"shareable\"},\"utsns\":{},\"userns\":{\"nsmode\":\"keep-id\",\"value\":\"uid=1000\"},\"cgroupns\":{\"nsmode\":\"private\"}}", A},
    {LC, "", NULL, "{\"pod\":\"p\",\"netns\":{\"nsmode\":\"pod\"},\"pidns\":{\"nsmode\":\"pod\"},\"ipcns\":{\"nsmode\":\"none\"},\"userns\":{\"nsmode\":\"auto\",\"value\":\"size=65536\"}}", A},
    {LC, "", NULL, "{\"netns\":null,\"pidns\":{\"nsmode\":null},\"userns\":{\"nsmode\":\"default\"},\"ipcns\":{\"nsmode\":\"\"}}", A},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"pasta\"},\"userns\":{\"nsmode\":\"no-map\"}}", A},
    {LC, "N", NULL, "{\"netns\":{\"nsmode\":\"host\"},\"pidns\":{\"nsmode\":\"path\",\"value\":\"/proc/1/ns/pid\"},\"ipcns\":{\"nsmode\":\"container\",\"value\":\"x\"}}", A},
    /* the host's loopback through slirp4netns, pasta's command line */
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"slirp4netns\",\"value\":\"cidr=10.0.3.0/24\"}}", A},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"slirp4netns\",\"value\":\"mtu=1500,allow_host_loopback=true\"}}", D, NS, "loopback"},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"slirp4netns\",\"value\":\"ALLOW_HOST_LOOPBACK=1\"}}", D, NS},
    {LC, "", NULL, "{\"netns\":{\"nsmode\":\"slirp4netns\",\"value\":\"allow_host_loopback=false\"}}", A},
    {LC, "", NULL, "{\"network_options\":{\"slirp4netns\":[\"allow_host_loopback=true\"]}}", D, NS, "loopback"},
    {LC, "", NULL, "{\"network_options\":{\"slirp4netns\":[\"port_handler=slirp4netns\",\"enable_ipv6=true\"]}}", A},
    {LC, "", NULL, "{\"network_options\":{\"pasta\":[\"-T\",\"5432\"]}}", D, NS, "pasta"},
    {LC, "", NULL, "{\"network_options\":{\"pasta\":[]}}", A},
    {LC, "N", NULL, "{\"network_options\":{\"pasta\":[\"--map-host-loopback\",\"10.0.2.2\"]}}", A},
    {LC, "", NULL, "{\"network_options\":{\"bridge\":[\"isolate=true\"]}}", A},
    {LC, "", NULL, "{\"network_options\":{\"pasta\":\"-T\"}}", B},
    {LC, "", NULL, "{\"network_options\":{\"pasta\":[1]}}", B},
    /* ALLOW_CAPABILITIES */
    {LC, "", NULL, "{\"cap_add\":[\"NET_ADMIN\"]}", D, CAP, "cap_add adds NET_ADMIN"},
    {LC, "", NULL, "{\"CAP_ADD\":[\"SYS_PTRACE\"]}", D, CAP},
    {LC, "", NULL, "{\"cap_add\":[],\"cap_drop\":[\"ALL\"]}", A},
    {LC, "C", NULL, "{\"cap_add\":[\"ALL\"]}", A},
    {LC, "", NULL, "{\"cap_add\":\"ALL\"}", B},
    {LC, "", NULL, "{\"sysctl\":{\"net.ipv4.ip_unprivileged_port_start\":\"0\"}}", D, CAP, "sysctl sets"},
    {LC, "", NULL, "{\"sysctl\":{}}", A},
    {LC, "", NULL, "{\"unmask\":[\"ALL\"]}", D, CAP, "unmask unmasks ALL"},
    {LC, "", NULL, "{\"unmask\":[\"/proc/kcore\"]}", D, CAP},
    {LC, "", NULL, "{\"mask\":[\"/opt/secret\"],\"unmask\":[]}", A},
    {LC, "", NULL, "{\"seccomp_policy\":\"image\"}", D, CAP, "seccomp_policy is image"},
    {LC, "", NULL, "{\"seccomp_policy\":\"default\"}", A},
    {LC, "", NULL, "{\"seccomp_profile_path\":\"unconfined\"}", D, CAP, "seccomp_profile_path is unconfined"},
    {LC, "", NULL, "{\"seccomp_profile_path\":\"/etc/permissive.json\"}", D, CAP},
    {LC, "", NULL, "{\"apparmor_profile\":\"unconfined\"}", D, CAP, "apparmor_profile is unconfined"},
    {LC, "", NULL, "{\"selinux_opts\":[\"disable\"]}", D, CAP, "selinux_opts disable"},
    {LC, "", NULL, "{\"selinux_opts\":[\"type:spc_t\"]}", D, CAP},
    {LC, "", NULL, "{\"selinux_opts\":[\"level:s0:c1,c2\"]}", A},
    {LC, "C", NULL, "{\"seccomp_profile_path\":\"unconfined\",\"apparmor_profile\":\"unconfined\",\"selinux_opts\":[\"disable\"],\"unmask\":[\"ALL\"],\"sysctl\":{\"a\":\"b\"}}", A},
    {LC, "", NULL, "{\"selinux_opts\":\"disable\"}", B},
    /* ALLOW_DEVICES */
    {LC, "", NULL, "{\"devices\":[{\"path\":\"/dev/sda\"}]}", D, DEV, "devices is not empty"},
    {LC, "", NULL, "{\"device_cgroup_rule\":[{\"allow\":true,\"access\":\"rwm\"}]}", D, DEV, "device_cgroup_rule"},
    {LC, "", NULL, "{\"devices_from\":[\"other\"]}", D, DEV, "devices_from"},
    {LC, "", NULL, "{\"host_device_list\":[{\"path\":\"/dev/mem\"}]}", D, DEV},
    {LC, "", NULL, "{\"gpus\":[\"all\"]}", D, DEV, "gpus"},
    {LC, "", NULL, "{\"resource_limits\":{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}}", D, DEV, "resource_limits.devices"},
    {LC, "", NULL, "{\"resource_limits\":{\"memory\":{\"limit\":268435456},\"pids\":{\"limit\":100}}}", A},
    {LC, "", NULL, "{\"devices\":[],\"gpus\":null,\"resource_limits\":{\"devices\":[]}}", A},
    {LC, "D", NULL, "{\"devices\":[{\"path\":\"/dev/fuse\"}],\"resource_limits\":{\"devices\":[{\"allow\":true}]}}", A},
    {LC, "", NULL, "{\"devices\":{\"path\":\"/dev/sda\"}}", B},
    /* ALLOW_BINDS: mounts (OCI), overlay volumes, named volumes' options, volumes_from */
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"bind\",\"source\":\"/\"}]}", D, BND, "host path /"},
    {LC, "", NULL, "{\"Mounts\":[{\"Destination\":\"/h\",\"Type\":\"bind\",\"Source\":\"/etc\"}]}", D, BND, "/etc"},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"none\",\"source\":\"/\",\"options\":[\"rbind\"]}]}", D, BND},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"ext4\",\"source\":\"/dev/sda1\"}]}", D, BND, "/dev/sda1"},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"glob\",\"source\":\"/etc/*\"}]}", D, BND},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"bind\",\"source\":\"etc\"}]}", B, NULL, "absolute"},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"ext4\",\"source\":\"../../../dev/sda1\"}]}", B},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"overlay\",\"source\":\"overlay\",\"options\":[\"lowerdir=/etc:/srv/x\"]}]}", D, BND, "/etc"},
    {LC, "", "/srv", "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"overlay\",\"source\":\"overlay\",\"options\":[\"ro,upperdir=/srv/u\",\"workdir=/srv/w\",\"lowerdir=/srv/a:/srv/b\"]}]}", A},
    {LC, "", "/srv", "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"overlay\",\"source\":\"overlay\",\"options\":[\"ro,UPPERDIR=/etc\"]}]}", D, BND, "/etc"},
    {LC, "", "/srv", "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"overlay\",\"source\":\"overlay\",\"options\":[\"lowerdir=/srv/a:\"]}]}", B},
    {LC, "", "/srv", "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"overlay\",\"source\":\"overlay\",\"options\":[\"lowerdir=srv\"]}]}", B},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=64m\",\"nosuid\"]},{\"destination\":\"/d\",\"type\":\"devpts\",\"source\":\"devpts\"}]}", A},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/i\",\"type\":\"image\",\"source\":\"docker.io/library/alpine\"}]}", A},
    {LC, "", "/srv", "{\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/srv/app\",\"options\":[\"rbind\",\"ro\"]}]}", A},
    {LC, "", "/srv", "{\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/srv/../etc\"}]}", D, BND, "/etc"},
    {LC, "", "/", "{\"mounts\":[{\"destination\":\"/s\",\"type\":\"bind\",\"source\":\"/run/docker.sock\"}]}", D, BND, "daemon's socket"},
    {LC, "", "/", "{\"mounts\":[{\"destination\":\"/s\",\"type\":\"bind\",\"source\":\"/var/run/podman/podman.sock\"}]}", D, BND, "socket"},
    {LC, "", "/", "{\"mounts\":[{\"destination\":\"/s\",\"type\":\"bind\",\"source\":\"" UPSTREAM "\"}]}", D, BND},
    {LC, "", "/run/podman/podman.sock", "{\"mounts\":[{\"destination\":\"/s\",\"type\":\"bind\",\"source\":\"/var/run/podman/podman.sock\"}]}", A},
    {LC, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"bind\",\"source\":\"/srv\",\"Source\":\"/\"}]}", B, NULL, "twice"},
    {LC, "", NULL, "{\"mounts\":{\"source\":\"/\"}}", B},
    {LC, "", NULL, "{\"mounts\":[\"/:/h\"]}", B},
    {LC, "", NULL, "{\"mounts\":[{\"source\":\"/\",\"options\":\"rbind\"}]}", B},
    {LC, "", NULL, "{\"overlay_volumes\":[{\"destination\":\"/h\",\"source\":\"/\"}]}", D, BND, "overlay_volumes"},
    {LC, "", "/srv", "{\"overlay_volumes\":[{\"destination\":\"/h\",\"source\":\"/srv/lower\",\"options\":[\"upperdir=/etc\",\"workdir=/srv/w\"]}]}", D, BND, "/etc"},
    {LC, "", "/srv", "{\"overlay_volumes\":[{\"destination\":\"/h\",\"source\":\"/srv/lower\",\"options\":[\"U\"]}]}", A},
    {LC, "", "/srv", "{\"overlay_volumes\":[{\"destination\":\"/h\",\"source\":\"lower\"}]}", B},
    {LC, "", NULL, "{\"volumes\":[{\"Name\":\"data\",\"Dest\":\"/data\",\"Options\":[\"rw\",\"z\"]},{\"Name\":\"\",\"Dest\":\"/anon\"}]}", A},
    {LC, "", NULL, "{\"volumes\":[{\"Name\":\"data\",\"Dest\":\"/data\",\"Options\":[\"O\",\"upperdir=/etc\",\"workdir=/tmp/w\"]}]}", D, BND, "/etc"},
    {LC, "", NULL, "{\"volumes\":[\"data:/data\"]}", B},
    {LC, "", NULL, "{\"image_volumes\":[{\"Source\":\"alpine\",\"Destination\":\"/img\"}],\"image_volume_mode\":\"anonymous\"}", A},
    {LC, "", NULL, "{\"volumes_from\":[\"other:ro\"]}", D, BND, "volumes_from"},
    {LC, "", "/", "{\"volumes_from\":[\"other:ro\"]}", A},
    /* ALLOW_BINDS: host files podman reads or writes for the container */
    {LC, "", NULL, "{\"rootfs\":\"/\"}", D, BND, "rootfs (the container's root filesystem) binds host path /"},
    {LC, "", "/srv", "{\"rootfs\":\"/srv/rootfs\",\"rootfs_overlay\":true}", A},
    {LC, "", "/srv", "{\"rootfs\":\"/srv/../etc\"}", D, BND},
    {LC, "", NULL, "{\"rootfs\":\"rootfs\"}", B, NULL, "absolute"},
    {LC, "", NULL, "{\"init\":true,\"init_path\":\"/etc/shadow\"}", D, BND, "init_path"},
    {LC, "", NULL, "{\"conmon_pid_file\":\"/etc/cron.d/x\"}", D, BND, "conmon_pid_file"},
    {LC, "", NULL, "{\"log_configuration\":{\"driver\":\"k8s-file\",\"path\":\"/etc/cron.d/x\"}}", D, BND, "log_configuration.path"},
    {LC, "", NULL, "{\"log_configuration\":{\"driver\":\"journald\",\"options\":{\"tag\":\"web\"}}}", A},
    {LC, "", NULL, "{\"log_configuration\":\"k8s-file\"}", B},
    {LC, "", NULL, "{\"base_hosts_file\":\"/etc/shadow\"}", D, BND, "base_hosts_file"},
    {LC, "", NULL, "{\"base_hosts_file\":\"image\"}", A},
    {LC, "", NULL, "{\"base_hosts_file\":\"none\"}", A},
    {LC, "", NULL, "{\"timezone\":\"Europe/Berlin\"}", A},
    {LC, "", NULL, "{\"timezone\":\"local\"}", A},
    {LC, "", NULL, "{\"timezone\":\"../../../etc/shadow\"}", D, BND, "zoneinfo"},
    {LC, "", NULL, "{\"timezone\":\"Europe/../../../../etc/shadow\"}", D, BND},
    {LC, "", NULL, "{\"timezone\":\"/../x\"}", D, BND},
    {LC, "", NULL, "{\"timezone\":\"Europe/../UTC\"}", A},
    {LC, "", "/", "{\"timezone\":\"../../../etc/shadow\"}", A},
    /* harmless fields */
    {LC, "", NULL, "{\"hostadd\":[\"db:10.0.0.2\"],\"create_working_dir\":true,\"work_dir\":\"/app\",\"mask\":[\"/x\"],\"hostname\":\"h\",\"dns_server\":[\"1.1.1.1\"],\"portmappings\":[{\"host_port\":8080,\"container_port\":80}],\"Networks\":{\"podman\":{}},\"env\":{\"A\":\"1\"},\"labels\":{\"a\":\"b\"},\"systemd\":\"true\"}", A},

    /* ---- libpod update: podman 5 has the resources at the top, podman 4 under Resources ---- */
    {LU, "", NULL, "{\"memory\":{\"limit\":268435456},\"cpu\":{\"shares\":512},\"Env\":[\"A=1\"]}", A},
    {LU, "", NULL, "{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}", D, DEV, "devices is not empty"},
    {LU, "", NULL, "{\"Resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}}", D, DEV, "Resources.devices"},
    {LU, "", NULL, "{\"resources\":{\"Devices\":[{\"allow\":true}]}}", D, DEV},
    {LU, "D", NULL, "{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}", A},
    {LU, "", NULL, "{\"devices\":[],\"Resources\":{\"memory\":{\"limit\":1}}}", A},
    {LU, "", NULL, "{\"devices\":[],\"Devices\":[{\"allow\":true}]}", B},
    {LU, "", NULL, "{\"devices\":{\"allow\":true}}", B},

    /* ---- libpod volume: the local driver's options, as Docker's DriverOpts ---- */
    {LV, "", NULL, "{\"Name\":\"v\",\"Driver\":\"local\",\"Options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/\"}}", D, BND, "Options"},
    {LV, "", NULL, "{\"name\":\"v\",\"options\":{\"o\":\"rbind\",\"device\":\"/etc\"}}", D, BND, "/etc"},
    {LV, "", NULL, "{\"Options\":{\"type\":\"ext4\",\"device\":\"/dev/sda1\"}}", D, BND},
    {LV, "", "/srv", "{\"Options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/srv/v\"}}", A},
    {LV, "", NULL, "{\"Options\":{\"o\":\"uid=1000\",\"O\":\"bind\",\"device\":\"/\"}}", B},
    {LV, "", NULL, "{\"Options\":{\"device\":[\"/\"]}}", B},
    {LV, "", NULL, "{\"Name\":\"v\",\"Label\":{\"a\":\"b\"},\"Options\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=10m\"},\"UID\":1000}", A},
    {LV, "", NULL, "{\"Name\":\"plain\"}", A},
    {LV, "", NULL, "{\"Name\":\"v\",\"Options\":\"o=bind\"}", B},

    /* ---- libpod pod create ---- */
    {LP, "", NULL, "{\"name\":\"p\",\"netns\":{\"nsmode\":\"bridge\"},\"portmappings\":[{\"host_port\":8080,\"container_port\":80}],\"shared_namespaces\":[\"net\",\"ipc\",\"uts\"],\"infra_image\":\"k8s.gcr.io/pause:3.5\"}", A},
    {LP, "", NULL, "{\"netns\":{\"nsmode\":\"host\"}}", D, NS, "netns is host"},
    {LP, "", NULL, "{\"pidns\":{\"nsmode\":\"host\"}}", D, NS},
    {LP, "", NULL, "{\"ipcns\":{\"nsmode\":\"path\",\"value\":\"/proc/1/ns/ipc\"}}", D, NS},
    {LP, "", NULL, "{\"utsns\":{\"nsmode\":\"host\"}}", D, NS},
    {LP, "", NULL, "{\"userns\":{\"nsmode\":\"host\"}}", D, NS},
    {LP, "N", NULL, "{\"netns\":{\"nsmode\":\"host\"},\"pidns\":{\"nsmode\":\"host\"}}", A},
    {LP, "", NULL, "{\"network_options\":{\"pasta\":[\"-T\",\"22\"]}}", D, NS},
    {LP, "", NULL, "{\"pod_devices\":[\"/dev/sda\"]}", D, DEV, "pod_devices"},
    {LP, "D", NULL, "{\"pod_devices\":[\"/dev/fuse\"]}", A},
    {LP, "", NULL, "{\"sysctl\":{\"kernel.shm_rmid_forced\":\"1\"}}", D, CAP, "sysctl"},
    {LP, "", NULL, "{\"security_opt\":[\"label=disable\"]}", D, CAP, "security_opt label=disable"},
    {LP, "", NULL, "{\"security_opt\":[\"seccomp=unconfined\"]}", D, CAP},
    {LP, "", NULL, "{\"security_opt\":[\"unmask=ALL\"]}", D, CAP},
    {LP, "", NULL, "{\"security_opt\":[\"no-new-privileges\",\"label=level:s0\"]}", A},
    {LP, "", NULL, "{\"mounts\":[{\"destination\":\"/h\",\"type\":\"bind\",\"source\":\"/\"}]}", D, BND, "mounts entry"},
    {LP, "", NULL, "{\"overlay_volumes\":[{\"destination\":\"/h\",\"source\":\"/etc\"}]}", D, BND},
    {LP, "", NULL, "{\"volumes_from\":[\"x\"]}", D, BND},
    {LP, "", NULL, "{\"infra_conmon_pid_file\":\"/etc/passwd\"}", D, BND, "infra_conmon_pid_file"},
    {LP, "", NULL, "{\"hostsFile\":\"/etc/shadow\"}", D, BND, "hostsFile"},
    {LP, "", NULL, "{\"hostsFile\":\"none\",\"no_manage_hosts\":false}", A},
    {LP, "", NULL, "{\"resource_limits\":{\"devices\":[{\"allow\":true}]}}", D, DEV},
    {LP, "", NULL, "{\"privileged\":true}", A}, /* not a pod field */
    {LP, "", NULL, "{\"name\":\"p\",\"NAME\":\"q\"}", A}, /* repeats of fields nobody judges */
    {LP, "", NULL, "{\"netns\":{\"nsmode\":\"bridge\"},\"Netns\":{\"nsmode\":\"host\"}}", B},
    {LP, "", NULL, "{\"security_opt\":\"label=disable\"}", B},
    /* libpod exec is Docker's ExecOptions */
    {EX, "", NULL, "{\"AttachStdout\":true,\"Cmd\":[\"sh\"],\"Privileged\":true,\"User\":\"root\"}", D, PRIV},
};

static void policy(body_policy *p, const char *allow, const char *binds)
{
    char err[256];
    memset(p, 0, sizeof(*p));
    p->privileged = strchr(allow, 'P') != NULL;
    p->host_namespaces = strchr(allow, 'N') != NULL;
    p->capabilities = strchr(allow, 'C') != NULL;
    p->devices = strchr(allow, 'D') != NULL;
    p->cgroupns_host_is_default = strchr(allow, 'V') != NULL;
    snprintf(p->upstream, sizeof(p->upstream), "%s", UPSTREAM);
    snprintf(p->hostnet, sizeof(p->hostnet), "%s", HOSTNET);
    int rc = body_policy_binds(p, "ALLOW_BINDS", binds, err, sizeof(err));
    CHECK(rc == 0, "ALLOW_BINDS=%s: %s", binds, err);
}

static void test_rows(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row *r = &rows[i];
        body_policy p;
        body_verdict v;
        policy(&p, r->allow, r->binds);
        /* a copy without a NUL after it, so that ASan sees any read past len */
        size_t n = strlen(r->body);
        char *copy = malloc(n ? n : 1);
        memcpy(copy, r->body, n);
        body_judge(&p, r->kind, copy, n, &v);
        free(copy);
        CHECK(v.status == r->status, "row %zu (%.60s): status %d, want %d (%s)", i, r->body, v.status, r->status, v.why);
        if (r->var)
            CHECK(v.var && strcmp(v.var, r->var) == 0, "row %zu (%.60s): var %s, want %s (%s)", i, r->body,
                  v.var ? v.var : "NULL", r->var, v.why);
        if (r->status == 0 || r->status == 400)
            CHECK(v.var == NULL, "row %zu: var %s on status %d", i, v.var, v.status);
        if (r->why)
            CHECK(strstr(v.why, r->why) != NULL, "row %zu: why \"%s\" lacks \"%s\"", i, v.why, r->why);
        if (r->status)
            CHECK(v.why[0] != '\0', "row %zu: no why", i);
    }
}

/* /build's query and /plugins/create, judged on the head alone. */
static void test_head(void)
{
    static const struct {
        body_kind kind;
        const char *allow, *query, *ctype;
        int status;
        const char *var;
    } heads[] = {
        {BODY_BUILD, "", "", "application/x-tar", A, NULL},
        {BODY_BUILD, "", "t=web&networkmode=default&rm=1", "application/x-tar", A, NULL},
        {BODY_BUILD, "", "networkmode=none", NULL, A, NULL},
        {BODY_BUILD, "", "networkmode=bridge&networkmode=", NULL, A, NULL},
        {BODY_BUILD, "", "networkmode=host", "application/x-tar", D, NS},
        {BODY_BUILD, "", "t=x&networkmode=HOST", NULL, D, NS},
        {BODY_BUILD, "", "networkmode=%68ost", NULL, D, NS},
        {BODY_BUILD, "", "network%6Dode=host", NULL, D, NS},
        {BODY_BUILD, "", "NetworkMode=host", NULL, D, NS},      /* dockerd ignores the key; stricter: refused */
        {BODY_BUILD, "", "networkmode=none&networkmode=host", NULL, D, NS}, /* dockerd takes the first; any */
        {BODY_BUILD, "", "networkmode=none;networkmode=host", NULL, D, NS}, /* ';' split as old Go did */
        {BODY_BUILD, "", "networkmode=container:abc", NULL, D, NS},
        /* what podman's /build and /libpod/build read besides */
        {BODY_BUILD, "", "t=x&volume=%2F%3A%2Fhost", NULL, D, BND},
        {BODY_BUILD, "B", "volume=/srv:/srv", NULL, A, NULL},
        {BODY_BUILD, "", "volume=", NULL, A, NULL},
        {BODY_BUILD, "", "Volume=/etc:/e", NULL, D, BND},
        {BODY_BUILD, "", "devices=%2Fdev%2Fsda", NULL, D, DEV},
        {BODY_BUILD, "D", "devices=/dev/sda", NULL, A, NULL},
        {BODY_BUILD, "", "addcaps=%5B%22CAP_SYS_ADMIN%22%5D", NULL, D, CAP},
        {BODY_BUILD, "", "addcaps=%5B%5D", NULL, A, NULL},
        {BODY_BUILD, "", "securityopt=seccomp%3Dunconfined", NULL, D, CAP},
        {BODY_BUILD, "", "seccomp=/tmp/p.json", NULL, D, CAP},
        {BODY_BUILD, "", "apparmor=unconfined", NULL, D, CAP},
        {BODY_BUILD, "C", "apparmor=unconfined&addcaps=x", NULL, A, NULL},
        {BODY_BUILD, "", "nsoptions=%5B%7B%22Name%22%3A%22network%22%2C%22Host%22%3Atrue%7D%5D", NULL, D, NS},
        {BODY_BUILD, "", "nsoptions=null", NULL, A, NULL},
        {BODY_BUILD, "N", "nsoptions=[{}]", NULL, A, NULL},
        {BODY_BUILD, "", "isolation=chroot", NULL, D, NS},
        {BODY_BUILD, "", "isolation=oci", NULL, A, NULL},
        {BODY_BUILD, "", "rusagelogfile=/etc/cron.d/x", NULL, D, BND},
        {BODY_BUILD, "", "additionalbuildcontexts=%7B%22c%22%3A%7B%22Value%22%3A%22%2Fetc%22%7D%7D", NULL, D, BND},
        {BODY_BUILD, "", "networkmode=host+", NULL, A, NULL},   /* "host ": not the host (dockerd agrees) */
        {BODY_BUILD, "", "networkmode=%zz", NULL, B, NULL},
        {BODY_BUILD, "", "%zz=1", NULL, B, NULL},
        {BODY_BUILD, "", "networkmode=%6", NULL, B, NULL},
        {BODY_BUILD, "", "averyveryverylongparametername=host", NULL, A, NULL},
        {BODY_BUILD, "N", "networkmode=host", NULL, A, NULL},
        {BODY_BUILD, "", "", "application/x-www-form-urlencoded", B, NULL},
        {BODY_BUILD, "", "", "Application/X-WWW-Form-Urlencoded; charset=utf-8", B, NULL},
        {BODY_PLUGIN_CREATE, "", "name=p", "application/x-tar", D, PRIV},
        {BODY_PLUGIN_CREATE, "P", "name=p", "application/x-tar", A, NULL},
        {BODY_CONTAINER_CREATE, "", "networkmode=host", NULL, A, NULL}, /* bodies are body_judge's */
        /* libpod: Kubernetes YAML (play/kube, kube/play, kube/apply) is opened by ALLOW_PRIVILEGED alone */
        {BODY_LIBPOD_PLAY, "", "", "application/yaml", D, PRIV},
        {BODY_LIBPOD_PLAY, "NCD", "start=true", "application/x-tar", D, PRIV},
        {BODY_LIBPOD_PLAY, "P", "", "application/yaml", A, NULL},
        /* restore: import= reads a whole container configuration from the archive in the body */
        {BODY_LIBPOD_RESTORE, "", "", NULL, A, NULL},
        {BODY_LIBPOD_RESTORE, "", "keep=true&tcpEstablished=false&import=false", NULL, A, NULL},
        {BODY_LIBPOD_RESTORE, "", "import=0&import=f&import=FALSE&import=", NULL, A, NULL},
        {BODY_LIBPOD_RESTORE, "", "import=true", "application/x-tar", D, PRIV},
        {BODY_LIBPOD_RESTORE, "", "import=1", NULL, D, PRIV},
        {BODY_LIBPOD_RESTORE, "", "IMPORT=T", NULL, D, PRIV},      /* schema matches keys with EqualFold */
        {BODY_LIBPOD_RESTORE, "", "%69mport=True", NULL, D, PRIV},
        {BODY_LIBPOD_RESTORE, "", "import=false&import=true", NULL, D, PRIV}, /* schema takes the last; any */
        {BODY_LIBPOD_RESTORE, "", "import=false;import=true", NULL, D, PRIV},
        {BODY_LIBPOD_RESTORE, "", "import=yes", NULL, D, PRIV},    /* not a Go bool: refused all the same */
        {BODY_LIBPOD_RESTORE, "", "import=%zz", NULL, B, NULL},
        {BODY_LIBPOD_RESTORE, "", "%zz=1", NULL, B, NULL},
        {BODY_LIBPOD_RESTORE, "CDN", "import=true", NULL, D, PRIV},
        {BODY_LIBPOD_RESTORE, "P", "import=true", NULL, A, NULL},
        {BODY_LIBPOD_RESTORE, "P", "import=%zz", NULL, A, NULL},  /* opened: nothing to read */
        /* secrets: the shell and pass drivers run their options on the host */
        {BODY_LIBPOD_SECRET, "", "name=db", "application/octet-stream", A, NULL},
        {BODY_LIBPOD_SECRET, "", "name=db&driver=file&driveropts=%7B%7D&labels=%7B%22a%22%3A%22b%22%7D", NULL, A, NULL},
        {BODY_LIBPOD_SECRET, "", "name=db&driver=&driveropts=null", NULL, A, NULL},
        {BODY_LIBPOD_SECRET, "", "name=db&driver=shell", NULL, D, PRIV},
        {BODY_LIBPOD_SECRET, "", "name=db&DRIVER=pass", NULL, D, PRIV},
        {BODY_LIBPOD_SECRET, "", "name=db&driveropts=%7B%22store%22%3A%22id%3Etmp%2Fx%22%7D", NULL, D, PRIV},
        {BODY_LIBPOD_SECRET, "", "name=db&driver=file&driveropts=%7B%22path%22%3A%22%2Fetc%22%7D", NULL, D, PRIV},
        {BODY_LIBPOD_SECRET, "", "driveropt%C5%BF=%7B%22a%22%3A%22b%22%7D", NULL, D, PRIV}, /* EqualFold: ſ */
        {BODY_LIBPOD_SECRET, "", "driveropts=%7B%7D%20x", NULL, D, PRIV},
        {BODY_LIBPOD_SECRET, "P", "driver=shell&driveropts=%7B%22store%22%3A%22x%22%7D", NULL, A, NULL},
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        body_policy p;
        body_verdict v;
        policy(&p, heads[i].allow, strchr(heads[i].allow, 'B') ? "/" : NULL); /* B: ALLOW_BINDS=/ */
        body_judge_head(&p, heads[i].kind, heads[i].query, strlen(heads[i].query), heads[i].ctype,
                        heads[i].ctype ? strlen(heads[i].ctype) : 0, &v);
        CHECK(v.status == heads[i].status, "head row %zu (%s): status %d, want %d (%s)", i, heads[i].query, v.status,
              heads[i].status, v.why);
        CHECK(!heads[i].var || (v.var && strcmp(v.var, heads[i].var) == 0), "head row %zu: var %s", i,
              v.var ? v.var : "NULL");
        CHECK(v.status == 0 || v.why[0], "head row %zu: no why", i);
    }
    /* and body_judge leaves them alone: their bodies are tar streams */
    body_policy p;
    body_verdict v;
    policy(&p, "", NULL);
    body_judge(&p, BODY_BUILD, "\x1f\x8b", 2, &v);
    CHECK(v.status == 0, "body_judge skips a build context");
}

/* The host paths a body binds, reported for learn mode, allowed or not. */
static void test_host_paths(void)
{
    body_policy p;
    body_verdict v;
    policy(&p, "", "/srv");
    const char *b = "{\"HostConfig\":{\"Binds\":[\"/srv/a/../a:/a\",\"named:/n\",\"/srv/a:/b:ro\"],"
                    "\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/b/\",\"Target\":\"/b\"}]}}";
    body_judge(&p, CC, b, strlen(b), &v);
    CHECK(v.status == 0 && v.nhost == 2 && strcmp(v.host[0], "/srv/a") == 0 && strcmp(v.host[1], "/srv/b") == 0,
          "host paths: status %d, %u paths (%s, %s)", v.status, v.nhost, v.nhost > 0 ? v.host[0] : "",
          v.nhost > 1 ? v.host[1] : "");
    policy(&p, "", NULL);
    b = "{\"HostConfig\":{\"Binds\":[\"/etc:/e\"]}}";
    body_judge(&p, CC, b, strlen(b), &v);
    CHECK(v.status == 403 && v.nhost == 1 && strcmp(v.host[0], "/etc") == 0, "a refused host path is reported too");
}

static void test_kinds(void)
{
    static const struct {
        const char *method, *path;
        body_kind kind;
    } k[] = {
        {"POST", "/containers/create", CC},
        {"POST", "/build", BODY_BUILD},
        {"POST", "/plugins/create", BODY_PLUGIN_CREATE},
        {"GET", "/build", BODY_NONE},
        {"POST", "/containers/abc/update", CU},
        {"POST", "/containers/abc/start", CS},
        {"POST", "/containers/abc/exec", EX},
        {"POST", "/containers/a/b/exec", EX},
        {"POST", "/containers/create/exec", EX},
        {"POST", "/services/create", SV},
        {"POST", "/services/xyz/update", SV},
        {"POST", "/volumes/create", VC},
        {"POST", "/plugins/pull", PL},
        {"POST", "/plugins/vieux/sshfs:latest/upgrade", PL},
        {"post", "/containers/create", CC},
        {"GET", "/containers/create", BODY_NONE},
        {"PUT", "/containers/create", BODY_NONE},
        {"POST", "/containers//start", BODY_NONE},
        {"POST", "/containers/start", BODY_NONE},
        {"POST", "/containers/abc/stop", BODY_NONE},
        {"POST", "/exec/abc/start", BODY_NONE},
        {"POST", "/volumes/prune", BODY_NONE},
        {"POST", "/plugins/upgrade", BODY_NONE},
        {"POST", "/plugins/x/enable", BODY_NONE},
        {"POST", "/networks/create", BODY_NONE},
        {"POST", "/containers/createx", BODY_NONE},
        {"POSTX", "/containers/create", BODY_NONE},
        /* a trailing slash: the stricter reading (a strict-slash router takes it as the route) */
        {"POST", "/containers/create/", CC},
        {"POST", "/containers/abc/exec/", EX},
        {"POST", "/", BODY_NONE},
        /* Podman's libpod API, as v.path arrives: /v4.0.0/libpod/containers/create -> /libpod/containers/create */
        {"POST", "/libpod/containers/create", LC},
        {"POST", "/libpod/containers/create/", LC},
        {"POST", "/libpod/containers/web/exec", EX},
        {"POST", "/libpod/containers/web/update", LU},
        {"POST", "/libpod/containers/web/restore", BODY_LIBPOD_RESTORE},
        {"POST", "/libpod/volumes/create", LV},
        {"POST", "/libpod/pods/create", LP},
        {"POST", "/libpod/secrets/create", BODY_LIBPOD_SECRET},
        {"POST", "/libpod/play/kube", BODY_LIBPOD_PLAY},
        {"POST", "/libpod/kube/play", BODY_LIBPOD_PLAY},
        {"POST", "/libpod/kube/apply", BODY_LIBPOD_PLAY},
        {"POST", "/libpod/play", BODY_LIBPOD_PLAY},
        {"POST", "/libpod/playground", BODY_NONE},
        {"POST", "/libpod/kubernetes", BODY_NONE},
        {"GET", "/libpod/containers/create", BODY_NONE},
        {"GET", "/libpod/containers/json", BODY_NONE},
        {"POST", "/libpod/containers/json", BODY_NONE},
        {"DELETE", "/libpod/play/kube", BODY_NONE},
        {"POST", "/libpod/containers/web/start", BODY_NONE},
        {"POST", "/libpod/containers/web/checkpoint", BODY_NONE},
        {"POST", "/libpod/containers//exec", BODY_NONE},
        {"POST", "/libpod/pods/web/start", BODY_NONE},
        {"POST", "/libpod/volumes/prune", BODY_NONE},
        {"POST", "/libpod/images/pull", BODY_NONE},
        {"POST", "/libpod/exec/abc/start", BODY_NONE},
        {"POST", "/libpod/containers/createx", BODY_NONE},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        body_kind got = body_kind_of(k[i].method, strlen(k[i].method), k[i].path, strlen(k[i].path));
        CHECK(got == k[i].kind, "%s %s: kind %d, want %d", k[i].method, k[i].path, got, k[i].kind);
    }
}

static void test_binds_var(void)
{
    static const struct {
        const char *value;
        int rc;
        unsigned n;
        const char *first;
    } b[] = {
        {NULL, 0, 0, NULL},
        {"", 0, 0, NULL},
        {"/", 0, 1, "/"},
        {"/srv,/data", 0, 2, "/srv"},
        {"/srv/../etc/", 0, 1, "/etc"},
        {"//srv//x/./", 0, 1, "/srv/x"},
        {"/..", 0, 1, "/"},
        {"1", -1},
        {"true", -1},
        {"srv", -1},
        {"/srv,", -1},
        {",/srv", -1},
        {"/srv,,/data", -1},
        {"/a,/b,/c,/d,/e,/f,/g,/h,/i,/j,/k,/l,/m,/n,/o,/p", 0, 16, "/a"},
        {"/a,/b,/c,/d,/e,/f,/g,/h,/i,/j,/k,/l,/m,/n,/o,/p,/q", -1},
    };
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
        body_policy p;
        char err[256] = "";
        memset(&p, 0, sizeof(p));
        int rc = body_policy_binds(&p, "ALLOW_BINDS", b[i].value, err, sizeof(err));
        CHECK(rc == b[i].rc, "ALLOW_BINDS=%s: rc %d (%s)", b[i].value, rc, err);
        if (rc == 0) {
            CHECK(p.nbinds == b[i].n, "ALLOW_BINDS=%s: %u paths", b[i].value, p.nbinds);
            if (b[i].first)
                CHECK(strcmp(p.binds[0], b[i].first) == 0, "ALLOW_BINDS=%s: %s", b[i].value, p.binds[0]);
        } else {
            CHECK(strstr(err, "ALLOW_BINDS") != NULL && !strchr(err, '\n'), "ALLOW_BINDS=%s: error %s", b[i].value, err);
        }
    }
    /* a path too long for the table */
    char long_path[400];
    memset(long_path, 'a', sizeof(long_path));
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    body_policy p;
    char err[256];
    CHECK(body_policy_binds(&p, "NAME__ALLOW_BINDS", long_path, err, sizeof(err)) == -1 && strstr(err, "NAME__ALLOW_BINDS"),
          "long path: %s", err);
}

/* Every refusal in the rows stays a refusal with everything else opened, and
 * opening the one variable it names lets a lone dangerous field through. */
static void test_each_variable_alone(void)
{
    static const struct {
        const char *allow, *binds, *body, *libpod;
    } k[] = {
        {"P", NULL, "{\"HostConfig\":{\"Privileged\":true}}", "{\"privileged\":true}"},
        {"N", NULL, "{\"HostConfig\":{\"PidMode\":\"host\"}}", "{\"pidns\":{\"nsmode\":\"host\"}}"},
        {"C", NULL, "{\"HostConfig\":{\"CapAdd\":[\"SYS_ADMIN\"]}}", "{\"unmask\":[\"ALL\"]}"},
        {"D", NULL, "{\"HostConfig\":{\"Devices\":[{}]}}", "{\"devices\":[{}]}"},
        {"", "/", "{\"HostConfig\":{\"Binds\":[\"/:/h\"]}}", "{\"rootfs\":\"/\"}"},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        for (size_t o = 0; o < sizeof(k) / sizeof(k[0]); o++) {
            body_policy p;
            body_verdict v;
            policy(&p, k[o].allow, k[o].binds);
            body_judge(&p, LC, k[i].libpod, strlen(k[i].libpod), &v);
            CHECK((v.status == 0) == (i == o), "%s under %s/%s: %d %s", k[i].libpod, k[o].allow,
                  k[o].binds ? k[o].binds : "-", v.status, v.why);
            body_judge(&p, CC, k[i].body, strlen(k[i].body), &v);
            CHECK((v.status == 0) == (i == o), "%s under %s/%s: %d %s", k[i].body, k[o].allow,
                  k[o].binds ? k[o].binds : "-", v.status, v.why);
        }
}

/* Deep nesting and a large body stay clean refusals or allowances. */
static void test_shapes(void)
{
    body_policy p;
    body_verdict v;
    policy(&p, "", NULL);
    size_t n = 200000;
    char *deep = malloc(n);
    for (size_t i = 0; i < n / 2; i++) {
        deep[i] = '[';
        deep[n - 1 - i] = ']';
    }
    body_judge(&p, CC, deep, n, &v);
    CHECK(v.status == 400, "deep nesting: %d", v.status);
    free(deep);
}

int main(void)
{
    test_rows();
    test_head();
    test_host_paths();
    test_kinds();
    test_binds_var();
    test_each_variable_alone();
    test_shapes();
    return unit_summary("test_body");
}

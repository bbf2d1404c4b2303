/* The body judge (rules/body.c): a row per refused field and per bypass
 * spelling (case, ſ and K folds, repeated keys, the create body's top-level
 * HostConfig fields, wrong types, trailing values, bad UTF-8, dot segments,
 * the Docker socket), and the bodies that must pass, among them ones captured
 * from the docker CLI (28.2) against a recording socket. */
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
    {CC, "", "/", "{\"HostConfig\":{\"Binds\":[\"/var/run/docker.sock:/s\"]}}", D, BND, "Docker socket"},
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
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        body_policy p;
        body_verdict v;
        policy(&p, heads[i].allow, NULL);
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
        const char *allow, *binds, *body;
    } k[] = {
        {"P", NULL, "{\"HostConfig\":{\"Privileged\":true}}"},
        {"N", NULL, "{\"HostConfig\":{\"PidMode\":\"host\"}}"},
        {"C", NULL, "{\"HostConfig\":{\"CapAdd\":[\"SYS_ADMIN\"]}}"},
        {"D", NULL, "{\"HostConfig\":{\"Devices\":[{}]}}"},
        {"", "/", "{\"HostConfig\":{\"Binds\":[\"/:/h\"]}}"},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        for (size_t o = 0; o < sizeof(k) / sizeof(k[0]); o++) {
            body_policy p;
            body_verdict v;
            policy(&p, k[o].allow, k[o].binds);
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
    test_kinds();
    test_binds_var();
    test_each_variable_alone();
    test_shapes();
    return unit_summary("test_body");
}

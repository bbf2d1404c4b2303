/* Response redaction (rules/redact.c): a row per target and per place that
 * only looks like one, the bytes around the targets coming back unchanged
 * (numbers past 2^53 and past double precision, spacing, escapes), the type
 * checks that fail closed, and malformed JSON that must give no output at all.
 * Every row also runs on its own output, which must come back identical. */
#include <stdlib.h>
#include <string.h>

#include "rules/redact.h"
#include "unit.h"

#define E REDACT_MARKER_ENV
#define T REDACT_MARKER_TOKEN
#define CO REDACT_CONTAINER
#define SV REDACT_SERVICE
#define SVS REDACT_SERVICES
#define TK REDACT_TASK
#define TKS REDACT_TASKS
#define SW REDACT_SWARM
#define ENV REDACT_ENV
#define TOK REDACT_JOIN_TOKENS
#define FAIL (-1)

/* a container inspect's Config with this Env */
#define CENV(env) "{\"Config\":{\"Env\":" env "}}"

/* GET /containers/{id}/json from dockerd 28 (shortened where nothing new
 * happens), with the numbers a re-encoder would break: the int64 and uint64
 * maxima, an integer past both, and floats a printer would respell. */
#define INSPECT_HEAD                                                                                                   \
    "{\"Id\":\"4f1c2b9a8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d\",\"Created\":\"2025-05-30T10:00:00.123456789Z\"," \
    "\"Path\":\"docker-entrypoint.sh\",\"Args\":[\"postgres\"],\"State\":{\"Status\":\"running\",\"Running\":true,"  \
    "\"Paused\":false,\"Restarting\":false,\"OOMKilled\":false,\"Dead\":false,\"Pid\":12345,\"ExitCode\":0,"          \
    "\"Error\":\"\",\"StartedAt\":\"2025-05-30T10:00:01.5Z\",\"FinishedAt\":\"0001-01-01T00:00:00Z\"},"               \
    "\"Image\":\"sha256:0b1e\",\"Name\":\"/db\",\"RestartCount\":0,\"Platform\":\"linux\",\"HostConfig\":{"           \
    "\"Binds\":null,\"Memory\":9223372036854775807,\"MemorySwap\":18446744073709551615,"                             \
    "\"KernelMemoryTCP\":123456789012345678901234567890,\"CpuQuota\":-0,\"CpuPercent\":1.0e+300,"                    \
    "\"BlkioWeight\":-0.0E-0,\"OomScoreAdj\":-500,\"Env\":[\"NOT=config\"],\"Tmpfs\":{\"/run\":\"size=64m\"}},"         \
    "\"Mounts\":[],\"Config\":{\"Hostname\":\"4f1c2b9a8e7d\",\"User\":\"\",\"AttachStdout\":false,\"Tty\":false,"       \
    "\"Env\":["
#define INSPECT_ENV_IN                                                                                            \
    "\"POSTGRES_PASSWORD=s3cr=t\",\"PATH=/usr/local/sbin:/usr/local/bin\",\"PG_VERSION=16.3-1.pgdg120+1\"," \
    "\"EMPTY=\",\"INHERITED\""
#define INSPECT_ENV_OUT "\"POSTGRES_PASSWORD=" E "\",\"PATH=" E "\",\"PG_VERSION=" E "\",\"EMPTY=" E "\",\"INHERITED\""
#define INSPECT_TAIL                                                                                                     \
    "],\"Cmd\":[\"postgres\"],\"Image\":\"postgres:16\",\"Volumes\":{\"/var/lib/postgresql/data\":{}},"                 \
    "\"Labels\":{\"Env\":\"A=b\",\"com.example.env\":\"PASSWORD=x\"},\"StopSignal\":\"SIGINT\"},"                       \
    "\"NetworkSettings\":{\"Ports\":{\"5432/tcp\":null},\"SandboxKey\":\"/var/run/docker/netns/0d1e\","                 \
    "\"Networks\":{\"bridge\":{\"IPPrefixLen\":16,\"MacAddress\":\"02:42:ac:11:00:02\",\"DriverOpts\":null}}},"       \
    "\"Env\":[\"TOP=level\"],\"SizeRw\":1e400}\n"

/* The same shape written with indentation, CRLF, tabs and spaces before colons. */
#define PRETTY(env)                                                                                                  \
    "{\r\n\t\"Id\" : \"abc\",\r\n\t\"HostConfig\" : {\r\n\t\t\"Memory\" : 9007199254740993\r\n\t},\r\n"                \
    "\t\"Config\" : {\r\n\t\t\"Env\" : [\r\n\t\t\t" env "\r\n\t\t] ,\r\n\t\t\"Cmd\" : [ ]\r\n\t}\r\n}\r\n \t"

/* A service as GET /services/{id} has it, the env under Spec and PreviousSpec. */
#define SERVICE(a, b, c)                                                                                              \
    "{\"ID\":\"9mnpnzenvg8p8tdbtq4wvbkcz\",\"Version\":{\"Index\":19},\"Spec\":{\"Name\":\"web\",\"Labels\":{},"    \
    "\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"nginx:alpine\",\"Env\":[" a "," b "],\"Init\":false},"          \
    "\"Resources\":{\"Limits\":{\"MemoryBytes\":104857600}},\"ForceUpdate\":0},\"Mode\":{\"Replicated\":{\"Replicas\":1}}}," \
    "\"PreviousSpec\":{\"Name\":\"web\",\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"nginx:alpine\",\"Env\":["   \
    c "]}}},\"Endpoint\":{\"Spec\":{}}}"

/* A task as GET /tasks/{id} has it. */
#define TASK(env)                                                                                                     \
    "{\"ID\":\"0kzzo1i0y4jz6027t0k7aezc7\",\"Version\":{\"Index\":71},\"Spec\":{\"ContainerSpec\":{\"Image\":\"redis\"," \
    "\"Env\":[" env "]},\"ForceUpdate\":0},\"ServiceID\":\"9mnpnzenvg8p8tdbtq4wvbkcz\",\"Slot\":1,"                   \
    "\"Status\":{\"State\":\"running\",\"ContainerStatus\":{\"ContainerID\":\"e5d\",\"PID\":677,\"ExitCode\":0}}}"

/* GET /swarm on a manager. */
#define SWARM(worker, manager)                                                                                        \
    "{\"ID\":\"abajmipo7b4xz5ip2nrla6b11\",\"Version\":{\"Index\":373},\"Spec\":{\"Name\":\"default\","              \
    "\"Orchestration\":{\"TaskHistoryRetentionLimit\":10},\"Raft\":{\"SnapshotInterval\":10000}},"                    \
    "\"JoinTokens\":{\"Worker\":" worker ",\"Manager\":" manager "},\"DataPathPort\":4789}"
#define WTOKEN "\"SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx\""
#define MTOKEN "\"SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-7p73s1dx5in4tatdymyhg9hu2\""

typedef struct {
    redact_kind kind;
    unsigned what;
    const char *in;
    const char *out; /* NULL: the input, unchanged */
    int replaced;    /* FAIL: redact refuses the input */
    size_t len;      /* 0: strlen(in) (a row with a NUL byte sets it) */
} row;

static const row rows[] = {
    /* ---- container inspect: Config.Env and nothing else ---- */
    {CO, ENV, INSPECT_HEAD INSPECT_ENV_IN INSPECT_TAIL, INSPECT_HEAD INSPECT_ENV_OUT INSPECT_TAIL, 4},
    {CO, 0, INSPECT_HEAD INSPECT_ENV_IN INSPECT_TAIL, NULL, 0},
    {CO, TOK, INSPECT_HEAD INSPECT_ENV_IN INSPECT_TAIL, NULL, 0},
    {CO, ENV | TOK, INSPECT_HEAD INSPECT_ENV_IN INSPECT_TAIL, INSPECT_HEAD INSPECT_ENV_OUT INSPECT_TAIL, 4},
    {CO, ENV, PRETTY("\"A=b\" ,\r\n\t\t\t\"C=d\""), PRETTY("\"A=" E "\" ,\r\n\t\t\t\"C=" E "\""), 2},
    {CO, ENV, CENV("[\"A=b\"]"), CENV("[\"A=" E "\"]"), 1},
    {CO, ENV, CENV("[ \"A=b\" , \"C\" ]"), CENV("[ \"A=" E "\" , \"C\" ]"), 1},
    {CO, ENV, CENV("[]"), NULL, 0},
    {CO, ENV, CENV("null"), NULL, 0},
    {CO, ENV, "{\"Config\":{}}", NULL, 0},
    {CO, ENV, "{\"Config\":null}", NULL, 0},
    {CO, ENV, "{\"Config\":{\"Image\":\"x\"},\"Env\":[\"A=b\"]}", NULL, 0},
    {CO, ENV, CENV("[\"NAME\"]"), NULL, 0},           /* no '=': unset, nothing to hide */
    {CO, ENV, CENV("[\"A=\"]"), CENV("[\"A=" E "\"]"), 1}, /* empty or not, nobody can tell */
    {CO, ENV, CENV("[\"=C:=C:\\\\\"]"), CENV("[\"=" E "\"]"), 1},
    {CO, ENV, CENV("[\"A==b\"]"), CENV("[\"A=" E "\"]"), 1},
    {CO, ENV, CENV("[\"A=" E "\"]"), NULL, 1}, /* already redacted: the same bytes */
    /* escapes: in the value they go; in the name they stay as written */
    {CO, ENV, CENV("[\"A=x\\\"y\\\\z\\u00e9\\ud83d\\udc33\\n\\/\"]"), CENV("[\"A=" E "\"]"), 1},
    {CO, ENV, CENV("[\"\\u0041\\\"B\\\\=v\"]"), CENV("[\"\\u0041\\\"B\\\\=" E "\"]"), 1},
    {CO, ENV, CENV("[\"KEY\\u003dvalue=x\"]"), CENV("[\"KEY=" E "\"]"), 1},
    {CO, ENV, CENV("[\"KEY\\u003Dvalue\"]"), CENV("[\"KEY=" E "\"]"), 1},
    {CO, ENV, CENV("[\"\\ud83d\\udc33\\u00e9\\u003d1\"]"), CENV("[\"\\ud83d\\udc33\\u00e9=" E "\"]"), 1},
    {CO, ENV, CENV("[\"CAF\xc3\x89=caf\xc3\xa9\xf0\x9f\x90\xb3\"]"), CENV("[\"CAF\xc3\x89=" E "\"]"), 1},
    {CO, ENV, CENV("[\"A\\u0000B=c\"]"), CENV("[\"A\\u0000B=" E "\"]"), 1},
    {CO, ENV, CENV("[\"NO\\u0065QUALS\\\\u003d\"]"), NULL, 0}, /* an escaped backslash, then "u003d" */
    {CO, ENV, CENV("[\"A=\x7f\"]"), CENV("[\"A=" E "\"]"), 1},
    /* Env names elsewhere, and Config or Env deeper, are not the target */
    {CO, ENV, "{\"Env\":[\"A=b\"],\"HostConfig\":{\"Env\":[\"A=b\"]},\"Config\":{\"Labels\":{\"Env\":\"A=b\"},\"Env\":[\"A=b\"]}}",
     "{\"Env\":[\"A=b\"],\"HostConfig\":{\"Env\":[\"A=b\"]},\"Config\":{\"Labels\":{\"Env\":\"A=b\"},\"Env\":[\"A=" E "\"]}}", 1},
    {CO, ENV, "{\"Config\":{\"Config\":{\"Env\":[\"A=b\"]}}}", NULL, 0},
    {CO, ENV, "{\"X\":{\"Config\":{\"Env\":[\"A=b\"]}}}", NULL, 0},
    {CO, ENV, "{\"Config\":{\"Labels\":{\"Config\":{\"Env\":[\"A=b\"]}}}}", NULL, 0},
    {CO, ENV, "[{\"Config\":{\"Env\":[\"A=b\"]}}]", NULL, 0},
    {CO, ENV, "{\"Config\":[{\"Env\":[\"A=b\"]}]}", NULL, 0},
    {CO, ENV, "{\"config\":{\"env\":[\"A=b\"]},\"CONFIG\":{\"Env\":[\"A=b\"]},\"Config \":{\"Env\":[\"A=b\"]}}", NULL, 0},
    {CO, ENV, "{\"Config\":{\"Envs\":[\"A=b\"],\"Env\\u0000\":[\"A=b\"],\"env\":[\"A=b\"]}}", NULL, 0},
    /* a key spelled with escapes is the key it decodes to */
    {CO, ENV, "{\"Con\\u0066ig\":{\"\\u0045nv\":[\"A=b\"]}}", "{\"Con\\u0066ig\":{\"\\u0045nv\":[\"A=" E "\"]}}", 1},
    /* every repeat is redacted, whichever a reader keeps */
    {CO, ENV, "{\"Config\":{\"Env\":[\"A=b\"],\"Env\":[\"C=d\"]},\"Config\":{\"Env\":[\"E=f\"]}}",
     "{\"Config\":{\"Env\":[\"A=" E "\"],\"Env\":[\"C=" E "\"]},\"Config\":{\"Env\":[\"E=" E "\"]}}", 3},
    /* the bytes around come back as written */
    {CO, ENV,
     "{\"A\":9223372036854775807,\"B\":18446744073709551616,\"C\":1.0e+300,\"D\":-0,\"E\":-0.0E-0,\"F\":0.1e1,"
     "\"G\":12345678901234567890123456789,\"H\":[1E+2,-1e-2,0.000000000000000000001],\"Config\":{\"Env\":[\"A=b\"]},"
     "\"I\":\"\\u00e9\\/\\b\\f\\n\\r\\t\",\"J\":[true,false,null,{},[]]}",
     "{\"A\":9223372036854775807,\"B\":18446744073709551616,\"C\":1.0e+300,\"D\":-0,\"E\":-0.0E-0,\"F\":0.1e1,"
     "\"G\":12345678901234567890123456789,\"H\":[1E+2,-1e-2,0.000000000000000000001],\"Config\":{\"Env\":[\"A=" E "\"]},"
     "\"I\":\"\\u00e9\\/\\b\\f\\n\\r\\t\",\"J\":[true,false,null,{},[]]}", 1},
    /* fail closed: an Env the daemon never writes */
    {CO, ENV, CENV("\"A=b\""), NULL, FAIL},
    {CO, ENV, CENV("{\"A\":\"b\"}"), NULL, FAIL},
    {CO, ENV, CENV("1"), NULL, FAIL},
    {CO, ENV, CENV("true"), NULL, FAIL},
    {CO, ENV, CENV("[1]"), NULL, FAIL},
    {CO, ENV, CENV("[null]"), NULL, FAIL},
    {CO, ENV, CENV("[\"A=b\",{}]"), NULL, FAIL},
    {CO, ENV, CENV("[[\"A=b\"]]"), NULL, FAIL},
    {CO, ENV, CENV("nul"), NULL, FAIL},
    {CO, 0, CENV("1"), NULL, 0}, /* not asked for: not looked at */
    {CO, 0, CENV("[\"A=b\",{}]"), NULL, 0},

    /* ---- services: Spec and PreviousSpec, one or a list ---- */
    {SV, ENV, SERVICE("\"A=b\"", "\"C\"", "\"A=old\""), SERVICE("\"A=" E "\"", "\"C\"", "\"A=" E "\""), 2},
    {SV, 0, SERVICE("\"A=b\"", "\"C\"", "\"A=old\""), NULL, 0},
    {SV, TOK, SERVICE("\"A=b\"", "\"C\"", "\"A=old\""), NULL, 0},
    {SVS, ENV, "[" SERVICE("\"A=b\"", "\"C=d\"", "\"E=f\"") ",\n" SERVICE("\"G\"", "\"H=i\"", "\"J=k\"") "]",
     "[" SERVICE("\"A=" E "\"", "\"C=" E "\"", "\"E=" E "\"") ",\n" SERVICE("\"G\"", "\"H=" E "\"", "\"J=" E "\"") "]", 5},
    {SVS, ENV, "[]", NULL, 0},
    {SVS, ENV, "{\"[]\":" SERVICE("\"A=b\"", "\"C\"", "\"A=old\"") "}", NULL, 0}, /* a key, not the elements */
    {SVS, ENV, "null", NULL, 0},
    {SVS, ENV, SERVICE("\"A=b\"", "\"C\"", "\"A=old\""), NULL, 0}, /* one service where a list is expected */
    {SV, ENV, "[" SERVICE("\"A=b\"", "\"C\"", "\"A=old\"") "]", NULL, 0},
    {SV, ENV, "{\"Spec\":{\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"x\"}}}}", NULL, 0},
    {SV, ENV, "{\"Spec\":{\"TaskTemplate\":{\"Env\":[\"A=b\"],\"ContainerSpec\":{\"Env\":null}}},\"PreviousSpec\":null}", NULL, 0},
    {SV, ENV, "{\"Spec\":{\"ContainerSpec\":{\"Env\":[\"A=b\"]}},\"Config\":{\"Env\":[\"A=b\"]}}", NULL, 0},
    {SV, ENV, "{\"PreviousSpec\":{\"TaskTemplate\":{\"ContainerSpec\":{\"Env\":[\"A=b\"]}}}}",
     "{\"PreviousSpec\":{\"TaskTemplate\":{\"ContainerSpec\":{\"Env\":[\"A=" E "\"]}}}}", 1},
    {SV, ENV, "{\"Spec\":{\"TaskTemplate\":{\"ContainerSpec\":{\"Env\":\"A=b\"}}}}", NULL, FAIL},
    {SVS, ENV, "[{\"PreviousSpec\":{\"TaskTemplate\":{\"ContainerSpec\":{\"Env\":[7]}}}}]", NULL, FAIL},

    /* ---- tasks ---- */
    {TK, ENV, TASK("\"REDIS_PASSWORD=hunter2\",\"TZ=UTC\""), TASK("\"REDIS_PASSWORD=" E "\",\"TZ=" E "\""), 2},
    {TKS, ENV, "[" TASK("\"A=b\"") "," TASK("") "," TASK("\"C=d\"") "]",
     "[" TASK("\"A=" E "\"") "," TASK("") "," TASK("\"C=" E "\"") "]", 2},
    {TK, ENV, "{\"Spec\":{\"TaskTemplate\":{\"ContainerSpec\":{\"Env\":[\"A=b\"]}}}}", NULL, 0},
    {TK, ENV, "[" TASK("\"A=b\"") "]", NULL, 0},
    {TKS, ENV, TASK("\"A=b\""), NULL, 0},
    {TK, 0, TASK("\"A=b\""), NULL, 0},
    {TK, ENV, "{\"Spec\":{\"ContainerSpec\":{\"Env\":{}}}}", NULL, FAIL},

    /* ---- swarm: both join tokens, whole ---- */
    {SW, TOK, SWARM(WTOKEN, MTOKEN), SWARM("\"" T "\"", "\"" T "\""), 2},
    {SW, ENV, SWARM(WTOKEN, MTOKEN), NULL, 0},
    {SW, 0, SWARM(WTOKEN, MTOKEN), NULL, 0},
    {SW, TOK, SWARM("null", MTOKEN), SWARM("null", "\"" T "\""), 1},
    {SW, TOK, SWARM("\"\"", "\"SWMTKN\\u002d1\\u002dx\""), SWARM("\"" T "\"", "\"" T "\""), 2},
    {SW, TOK, "{\"ID\":\"x\",\"JoinTokens\":{}}", NULL, 0},
    {SW, TOK, "{\"ID\":\"x\",\"JoinTokens\":null}", NULL, 0},
    {SW, TOK, "{\"ID\":\"x\"}", NULL, 0},
    {SW, TOK, "{\"Spec\":{\"JoinTokens\":{\"Worker\":\"w\"}},\"Worker\":\"w\",\"JoinTokens\":{\"Workers\":\"w\"}}", NULL, 0},
    {SW, TOK, "{\"JoinTokens\":{\"Worker\":\"w\",\"Worker\":\"v\"}}", "{\"JoinTokens\":{\"Worker\":\"" T "\",\"Worker\":\"" T "\"}}", 2},
    {SW, TOK, SWARM("1", MTOKEN), NULL, FAIL},
    {SW, TOK, SWARM(WTOKEN, "[" MTOKEN "]"), NULL, FAIL},
    {SW, TOK, SWARM("{}", MTOKEN), NULL, FAIL},
    {SW, TOK, SWARM("false", MTOKEN), NULL, FAIL},
    {SW, 0, SWARM("1", MTOKEN), NULL, 0},

    /* ---- no kind: only the check ---- */
    {REDACT_NONE, ENV | TOK, INSPECT_HEAD INSPECT_ENV_IN INSPECT_TAIL, NULL, 0},
    {REDACT_NONE, ENV | TOK, SWARM(WTOKEN, MTOKEN), NULL, 0},
    {REDACT_NONE, ENV, "{", NULL, FAIL},

    /* ---- one JSON value, and only that ---- */
    {CO, ENV, " \t\r\n{} \t\r\n", NULL, 0},
    {CO, ENV, "\"\\u0000\\/\\\"\"", NULL, 0},
    {CO, ENV, "[1e5,-0,0.5E+1,1E-2,-1.5e-0,0,10,-10]", NULL, 0},
    {CO, ENV, "[\"\xf4\x8f\xbf\xbf\",\"\xed\x9f\xbf\",\"\xee\x80\x80\",\"\xc2\x80\",\"\xe0\xa0\x80\",\"\xf0\x90\x80\x80\"]", NULL, 0},
    {CO, ENV, "{\"\":\"\",\"[]\":[]}", NULL, 0},
    {CO, ENV, "", NULL, FAIL},
    {CO, ENV, " \n", NULL, FAIL},
    /* truncated */
    {CO, ENV, "{", NULL, FAIL},
    {CO, ENV, "[", NULL, FAIL},
    {CO, ENV, "{\"Config\":{\"Env\":[\"A=b\"", NULL, FAIL},
    {CO, ENV, "{\"Config\":{\"Env\":[\"A=b\"]}", NULL, FAIL},
    {CO, ENV, "{\"Config\":{\"Env\":[\"A=b", NULL, FAIL},
    {CO, ENV, "{\"a\":\"x", NULL, FAIL},
    {CO, ENV, "{\"a\":tru", NULL, FAIL},
    {CO, ENV, "{\"a\"", NULL, FAIL},
    {CO, ENV, "{\"a\":", NULL, FAIL},
    {CO, ENV, "[1,", NULL, FAIL},
    {CO, ENV, "\"\\", NULL, FAIL},
    {CO, ENV, "\"\\u00", NULL, FAIL},
    {CO, ENV, "\"\\ud83d\\udc", NULL, FAIL},
    {CO, ENV, "\"\xc3", NULL, FAIL},
    {CO, ENV, "-", NULL, FAIL},
    /* trailing garbage */
    {CO, ENV, "{}x", NULL, FAIL},
    {CO, ENV, "{} {}", NULL, FAIL},
    {CO, ENV, "{}}", NULL, FAIL},
    {CO, ENV, "[]]", NULL, FAIL},
    {CO, ENV, "nullx", NULL, FAIL},
    {CO, ENV, "1 2", NULL, FAIL},
    {CO, ENV, CENV("[\"A=b\"]") ",", NULL, FAIL},
    {CO, ENV, "{}\0", NULL, FAIL, 3},
    /* bad escapes */
    {CO, ENV, "\"\\x\"", NULL, FAIL},
    {CO, ENV, "\"\\'\"", NULL, FAIL},
    {CO, ENV, "\"\\U0041\"", NULL, FAIL},
    {CO, ENV, "\"\\u12\"", NULL, FAIL},
    {CO, ENV, "\"\\u12G4\"", NULL, FAIL},
    {CO, ENV, "\"\\u 123\"", NULL, FAIL},
    {CO, ENV, "\"\\\"", NULL, FAIL},
    {CO, ENV, CENV("[\"A=\\q\"]"), NULL, FAIL},
    /* lone or broken surrogates */
    {CO, ENV, "\"\\ud800\"", NULL, FAIL},
    {CO, ENV, "\"\\udc00\"", NULL, FAIL},
    {CO, ENV, "\"\\udfff\\ud800\"", NULL, FAIL},
    {CO, ENV, "\"\\udc00\\udc00\"", NULL, FAIL},
    {CO, ENV, "\"\\ud800\\u0041\"", NULL, FAIL},
    {CO, ENV, "\"\\ud800x\"", NULL, FAIL},
    {CO, ENV, "\"\\ud83d\\ud83d\"", NULL, FAIL},
    {CO, ENV, "\"\\ud83d\\\\udc33\"", NULL, FAIL},
    {CO, ENV, CENV("[\"A\\ud800=b\"]"), NULL, FAIL},
    /* invalid UTF-8 */
    {CO, ENV, "\"\xff\"", NULL, FAIL},
    {CO, ENV, "\"\x80\"", NULL, FAIL},
    {CO, ENV, "\"\xc0\xaf\"", NULL, FAIL},         /* overlong '/' */
    {CO, ENV, "\"\xc1\xbf\"", NULL, FAIL},
    {CO, ENV, "\"\xe0\x80\xaf\"", NULL, FAIL},     /* overlong, 3 bytes */
    {CO, ENV, "\"\xf0\x80\x80\xaf\"", NULL, FAIL}, /* overlong, 4 bytes */
    {CO, ENV, "\"\xed\xa0\x80\"", NULL, FAIL},     /* an encoded surrogate */
    {CO, ENV, "\"\xf4\x90\x80\x80\"", NULL, FAIL}, /* past U+10FFFF */
    {CO, ENV, "\"\xf5\x80\x80\x80\"", NULL, FAIL},
    {CO, ENV, "\"\xc3\"", NULL, FAIL},
    {CO, ENV, "\"\xe2\x82\"", NULL, FAIL},
    {CO, ENV, "\"\xe2\x82\x41\"", NULL, FAIL},
    {CO, ENV, "\"\xf0\x9f\x90\"", NULL, FAIL},
    {CO, ENV, CENV("[\"A=\xff\"]"), NULL, FAIL},
    {CO, ENV, "{\"Con\xff" "fig\":{}}", NULL, FAIL},
    {CO, ENV, "\xef\xbb\xbf{}", NULL, FAIL},       /* a byte order mark */
    {CO, ENV, "\xc2\xa0{}", NULL, FAIL},           /* no-break space is no JSON space */
    /* numbers */
    {CO, ENV, "01", NULL, FAIL},
    {CO, ENV, "[01]", NULL, FAIL},
    {CO, ENV, "-01", NULL, FAIL},
    {CO, ENV, "00", NULL, FAIL},
    {CO, ENV, "1.", NULL, FAIL},
    {CO, ENV, ".5", NULL, FAIL},
    {CO, ENV, "+1", NULL, FAIL},
    {CO, ENV, "1e", NULL, FAIL},
    {CO, ENV, "1e+", NULL, FAIL},
    {CO, ENV, "1.e5", NULL, FAIL},
    {CO, ENV, "0x10", NULL, FAIL},
    {CO, ENV, "--1", NULL, FAIL},
    {CO, ENV, "[NaN]", NULL, FAIL},
    {CO, ENV, "[Infinity]", NULL, FAIL},
    {CO, ENV, "[-Infinity]", NULL, FAIL},
    /* control bytes in strings, spaces JSON does not have */
    {CO, ENV, "\"a\x01" "b\"", NULL, FAIL},
    {CO, ENV, "\"a\tb\"", NULL, FAIL},
    {CO, ENV, "\"a\nb\"", NULL, FAIL},
    {CO, ENV, "\"a\x1f\"", NULL, FAIL},
    {CO, ENV, "\"a\0b\"", NULL, FAIL, 5},
    {CO, ENV, CENV("[\"A=b\x01\"]"), NULL, FAIL},
    {CO, ENV, "\f{}", NULL, FAIL},
    {CO, ENV, "\v{}", NULL, FAIL},
    {CO, ENV, "[1,\f2]", NULL, FAIL},
    /* commas, colons, keys */
    {CO, ENV, "[1,,2]", NULL, FAIL},
    {CO, ENV, "[,1]", NULL, FAIL},
    {CO, ENV, "[1,]", NULL, FAIL},
    {CO, ENV, "[1 2]", NULL, FAIL},
    {CO, ENV, "{\"a\":1,,\"b\":2}", NULL, FAIL},
    {CO, ENV, "{,}", NULL, FAIL},
    {CO, ENV, "{\"a\":1,}", NULL, FAIL},
    {CO, ENV, "{\"a\":1 \"b\":2}", NULL, FAIL},
    {CO, ENV, CENV("[\"A=b\",,\"C=d\"]"), NULL, FAIL},
    {CO, ENV, CENV("[\"A=b\",]"), NULL, FAIL},
    {CO, ENV, "{a:1}", NULL, FAIL},
    {CO, ENV, "{Config:{\"Env\":[\"A=b\"]}}", NULL, FAIL},
    {CO, ENV, "{'a':1}", NULL, FAIL},
    {CO, ENV, "'x'", NULL, FAIL},
    {CO, ENV, "{1:2}", NULL, FAIL},
    {CO, ENV, "{null:1}", NULL, FAIL},
    {CO, ENV, "{\"a\" 1}", NULL, FAIL},
    {CO, ENV, "{\"a\"::1}", NULL, FAIL},
    {CO, ENV, "{\"a\"=1}", NULL, FAIL},
    {CO, ENV, "[1:2]", NULL, FAIL},
    {CO, ENV, "{\"a\":1]", NULL, FAIL},
    {CO, ENV, "[1}", NULL, FAIL},
    /* literals and comments */
    {CO, ENV, "True", NULL, FAIL},
    {CO, ENV, "nul", NULL, FAIL},
    {CO, ENV, "[nulll]", NULL, FAIL},
    {CO, ENV, "undefined", NULL, FAIL},
    {CO, ENV, "/* c */{}", NULL, FAIL},
    {CO, ENV, "{} // c", NULL, FAIL},
};

/* A copy without a NUL after it, so that ASan sees any read past len. */
static int run(redact_kind kind, unsigned what, const char *in, size_t len, char **out, size_t *outlen,
               unsigned *replaced)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, in, len);
    int rc = redact(kind, what, copy, len, out, outlen, replaced);
    free(copy);
    return rc;
}

static void test_rows(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row *r = &rows[i];
        size_t len = r->len ? r->len : strlen(r->in);
        const char *want = r->out ? r->out : r->in;
        size_t wlen = r->out ? strlen(r->out) : len;
        char *out, *again;
        size_t olen, alen;
        unsigned n, an;
        int rc = run(r->kind, r->what, r->in, len, &out, &olen, &n);
        if (r->replaced == FAIL) {
            CHECK(rc == -1 && !out && olen == 0 && n == 0, "row %zu (%.60s): rc %d, want -1", i, r->in, rc);
            free(out);
            continue;
        }
        CHECK(rc == 0, "row %zu (%.60s): rc %d", i, r->in, rc);
        if (rc != 0)
            continue;
        CHECK(olen == wlen && memcmp(out, want, wlen) == 0 && out[olen] == '\0', "row %zu: got\n  %.*s\nwant\n  %.*s", i,
              (int)olen, out, (int)wlen, want);
        CHECK(n == (unsigned)r->replaced, "row %zu (%.60s): replaced %u, want %d", i, r->in, n, r->replaced);
        /* the output as input: the same bytes and the same count */
        rc = run(r->kind, r->what, out, olen, &again, &alen, &an);
        CHECK(rc == 0 && alen == olen && memcmp(again, out, olen) == 0 && an == n, "row %zu: not idempotent", i);
        free(again);
        free(out);
    }
}

static void test_kinds(void)
{
    static const struct {
        const char *method, *path;
        redact_kind kind;
    } k[] = {
        {"GET", "/containers/abc/json", CO},
        {"GET", "/libpod/containers/abc/json", CO},
        {"GET", "/libpod/containers/json", REDACT_NONE},
        {"GET", "/libpod/containers//json", REDACT_NONE},
        {"GET", "/containers/abc/json/", CO},
        {"GET", "/containers/web/db/json", CO}, /* a legacy link's name: /containers/{name:.*}/json */
        {"GET", "/containers/json/json", CO},
        {"GET", "/containers/a/json", CO},
        {"GET", "/containers/json", REDACT_NONE},
        {"GET", "/containers/json/", REDACT_NONE},
        {"GET", "/containers/abc", REDACT_NONE},
        {"GET", "/containers/abc/jsonx", REDACT_NONE},
        {"GET", "/containers/abc/logs", REDACT_NONE},
        {"GET", "/containers/abc/top", REDACT_NONE},
        {"GET", "/containers/abc/json/x", REDACT_NONE},
        {"GET", "/CONTAINERS/abc/json", REDACT_NONE},
        {"GET", "/v1.47/containers/abc/json", REDACT_NONE}, /* the caller removes the version */
        {"HEAD", "/containers/abc/json", REDACT_NONE},
        {"POST", "/containers/abc/json", REDACT_NONE},
        {"get", "/containers/abc/json", REDACT_NONE}, /* dockerd's router matches methods exactly */
        {"GETX", "/containers/abc/json", REDACT_NONE},
        {"GE", "/containers/abc/json", REDACT_NONE},
        {"GET", "/services", SVS},
        {"GET", "/services/", SVS},
        {"GET", "/services/web", SV},
        {"GET", "/services/web/", SV},
        {"GET", "/services/create", SV}, /* GET routes it to the inspect of a service named create */
        {"GET", "/services/web/logs", REDACT_NONE},
        {"GET", "/servicesx", REDACT_NONE},
        {"GET", "/tasks", TKS},
        {"GET", "/tasks/t1", TK},
        {"GET", "/tasks/t1/", TK},
        {"GET", "/tasks/t1/logs", REDACT_NONE},
        {"GET", "/swarm", SW},
        {"GET", "/swarm/", SW},
        {"GET", "/swarm/unlockkey", REDACT_NONE},
        {"GET", "/swarmx", REDACT_NONE},
        {"GET", "/images/abc/json", REDACT_NONE},
        {"GET", "/exec/abc/json", REDACT_NONE},
        {"GET", "/", REDACT_NONE},
        {"GET", "", REDACT_NONE},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        redact_kind got = redact_kind_of(k[i].method, strlen(k[i].method), k[i].path, strlen(k[i].path));
        CHECK(got == k[i].kind, "%s %s: kind %d, want %d", k[i].method, k[i].path, got, k[i].kind);
    }
}

/* 64 levels nest, 65 do not, around or inside a target. */
static void test_depth(void)
{
    static const struct {
        const char *open, *close;
        size_t levels;
        int rc;
    } d[] = {
        {"[", "]", 64, 0}, {"[", "]", 65, -1}, {"{\"a\":", "}", 64, 0}, {"{\"a\":", "}", 65, -1}, {"[", "]", 100000, -1},
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        size_t no = strlen(d[i].open), nc = strlen(d[i].close), len = d[i].levels * (no + nc) + 1, at = 0;
        char *in = malloc(len), *out;
        size_t olen;
        unsigned n;
        for (size_t l = 0; l < d[i].levels; l++, at += no)
            memcpy(in + at, d[i].open, no);
        in[at++] = '1';
        for (size_t l = 0; l < d[i].levels; l++, at += nc)
            memcpy(in + at, d[i].close, nc);
        int rc = redact(CO, ENV, in, len, &out, &olen, &n);
        CHECK(rc == d[i].rc && (rc < 0 || (olen == len && memcmp(out, in, len) == 0)), "%zu levels of %s: rc %d",
              d[i].levels, d[i].open, rc);
        free(out);
        free(in);
    }
    /* an Env array at depth 63 of the document still counts as a level */
    const char *env = CENV("[[\"A=b\"]]");
    CHECK(redact(CO, ENV, env, strlen(env), &(char *){NULL}, &(size_t){0}, &(unsigned){0}) == -1, "Env of arrays");
}

/* A large answer: a thousand entries, the output growing past the input. */
static void test_many(void)
{
    size_t cap = 64 + 1000 * (sizeof("\"VARIABLE_0000=some value here\",") + sizeof(E) + 2);
    char *in = malloc(cap), *want = malloc(cap), *out;
    size_t il = 0, wl = 0, olen;
    unsigned n;
    il += (size_t)snprintf(in + il, cap - il, "{\"Config\":{\"Env\":[");
    wl += (size_t)snprintf(want + wl, cap - wl, "{\"Config\":{\"Env\":[");
    for (int i = 0; i < 1000; i++) {
        il += (size_t)snprintf(in + il, cap - il, "%s\"VARIABLE_%04d=some value here\"", i ? "," : "", i);
        wl += (size_t)snprintf(want + wl, cap - wl, "%s\"VARIABLE_%04d=" E "\"", i ? "," : "", i);
    }
    il += (size_t)snprintf(in + il, cap - il, "]}}");
    wl += (size_t)snprintf(want + wl, cap - wl, "]}}");
    int rc = redact(CO, ENV, in, il, &out, &olen, &n);
    CHECK(rc == 0 && n == 1000 && olen == wl && memcmp(out, want, wl) == 0, "1000 entries: rc %d, %u replaced", rc, n);
    free(out);
    free(in);
    free(want);
}

static void test_unknown_kind(void)
{
    char *out = (char *)"untouched";
    size_t olen = 1;
    unsigned n = 1;
    CHECK(redact((redact_kind)99, ENV, "{}", 2, &out, &olen, &n) == -1 && !out && olen == 0 && n == 0, "kind 99");
}

int main(void)
{
    test_rows();
    test_kinds();
    test_depth();
    test_many();
    test_unknown_kind();
    return unit_summary("test_redact");
}

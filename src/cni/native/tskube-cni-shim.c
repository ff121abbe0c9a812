/*
 * tskube-cni-shim: the one plugin of the runtime's CNI network when tskube's kubelet
 * manages pod networking (`tskube kubelet --network-plugin=cni`). The runtime (containerd,
 * CRI-O) execs it like any plugin; it forwards the call (the CNI_* environment and stdin)
 * to the kubelet over a unix socket and hands the kubelet's answer (stdout and exit code)
 * back unchanged. The kubelet runs the real plugin chain (src/kubelet/network).
 *
 * Protocol, version 1 (src/cni/shim-protocol.ts is the other side; one call per connection):
 *
 *   shim -> kubelet:  "TSKUBE-CNI-SHIM/1 <bytes of stdin>\n"
 *                     "CNI_COMMAND=ADD\n" ... one line per CNI_* variable ...
 *                     "\n"
 *                     the plugin's stdin, raw
 *   kubelet -> shim:  "TSKUBE-CNI-SHIM/1 <exit code>\n"
 *                     the plugin's stdout, raw, to the end of the connection
 *
 * The shim keeps its side open while it waits, so the kubelet sees it go away (the runtime
 * killed it at a deadline) and stops the call.
 *
 * The socket is the network config's top-level "socket" string (the kubelet writes the
 * config), else /var/lib/kubelet/cni/cni.sock. VERSION is answered here without the kubelet. When
 * the kubelet cannot be reached or does not answer, the shim prints the spec's error
 * object with code 11 ("try again later") naming the socket, and exits 1.
 *
 * Small on purpose: it runs for every sandbox, and a static C binary starts in well under
 * a millisecond where Node takes ~50 ms (docs/cni.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL "TSKUBE-CNI-SHIM/1"
/* The kubelet listens at <root-dir>/cni/cni.sock; this is the default root dir. */
#define DEFAULT_SOCKET "/var/lib/kubelet/cni/cni.sock"
/* The kubelet's own per-plugin deadlines are shorter; this only bounds a kubelet that accepted and hung. */
#define ANSWER_TIMEOUT_MS (10 * 60 * 1000)
/* Network configs and results are a few KiB; anything near this is broken. */
#define MAX_BYTES (16 * 1024 * 1024)
#define SUPPORTED_VERSIONS "[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]"

extern char **environ;

struct buf {
  char *data;
  size_t len, cap;
};

static void buf_add(struct buf *b, const char *p, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) {
      fputs("{\"code\":5,\"msg\":\"tskube-cni-shim: out of memory\"}\n", stdout);
      exit(1);
    }
    b->data = data;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

/* The config's cniVersion, for the error objects the shim prints itself. */
static char cni_version[32] = "";

static void json_string(struct buf *b, const char *s) {
  buf_add(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf_add(b, "\\", 1);
      buf_add(b, s, 1);
    } else if (c < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      buf_add(b, esc, strlen(esc));
    } else {
      buf_add(b, s, 1);
    }
  }
  buf_add(b, "\"", 1);
}

/* Prints the spec's error object on stdout and exits 1 (SPEC: non-zero exit, error on stdout). */
__attribute__((noreturn)) static void fail(int code, const char *msg, const char *details) {
  struct buf b = {0};
  buf_add(&b, "{", 1);
  if (cni_version[0]) {
    buf_add(&b, "\"cniVersion\":", 13);
    json_string(&b, cni_version);
    buf_add(&b, ",", 1);
  }
  char num[32];
  snprintf(num, sizeof num, "\"code\":%d,\"msg\":", code);
  buf_add(&b, num, strlen(num));
  json_string(&b, msg);
  if (details && *details) {
    buf_add(&b, ",\"details\":", 11);
    json_string(&b, details);
  }
  buf_add(&b, "}\n", 2);
  fwrite(b.data, 1, b.len, stdout);
  exit(1);
}

__attribute__((noreturn, format(printf, 3, 4))) static void failf(int code, const char *details, const char *fmt, ...);
static void failf(int code, const char *details, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fail(code, msg, details);
}

static void write_all(int fd, const char *p, size_t n, const char *socket_path) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) failf(11, "the kubelet closed the connection; it may be restarting", "cannot send the call to the tskube kubelet at %s: %s", socket_path, strerror(errno));
    p += w;
    n -= (size_t)w;
  }
}

/* --- just enough JSON to read two top-level strings of the network config --- */

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* p at the opening quote; returns just past the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end) {
  for (p++; p < end; p++) {
    if (*p == '\\') {
      p++;
    } else if (*p == '"') {
      return p + 1;
    }
  }
  return NULL;
}

/* Any value: a string, an object or array (nested), or a literal or number. */
static const char *skip_value(const char *p, const char *end) {
  if (p >= end) return NULL;
  if (*p == '"') return skip_string(p, end);
  if (*p == '{' || *p == '[') {
    int depth = 0;
    while (p < end) {
      if (*p == '"') {
        p = skip_string(p, end);
        if (!p) return NULL;
        continue;
      }
      if (*p == '{' || *p == '[') depth++;
      if (*p == '}' || *p == ']') {
        if (--depth == 0) return p + 1;
      }
      p++;
    }
    return NULL;
  }
  while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
  return p;
}

/*
 * Copies the top-level string `key` of a JSON object into out. Returns 1 when found,
 * 0 when absent, -1 when the value is not a plain string, -2 when the text is not an object.
 */
static int top_level_string(const char *json, size_t len, const char *key, char *out, size_t outlen) {
  const char *p = json, *end = json + len;
  size_t keylen = strlen(key);
  p = skip_ws(p, end);
  if (p >= end || *p != '{') return -2;
  p = skip_ws(p + 1, end);
  if (p < end && *p == '}') return 0;
  while (p < end) {
    if (*p != '"') return -2;
    const char *k = p + 1;
    const char *after = skip_string(p, end);
    if (!after) return -2;
    int match = (size_t)(after - 1 - k) == keylen && memcmp(k, key, keylen) == 0;
    p = skip_ws(after, end);
    if (p >= end || *p != ':') return -2;
    p = skip_ws(p + 1, end);
    const char *value_end = skip_value(p, end);
    if (!value_end) return -2;
    if (match) {
      if (*p != '"') return -1;
      const char *v = p + 1;
      size_t n = (size_t)(value_end - 1 - v);
      if (memchr(v, '\\', n) || n + 1 > outlen) return -1;
      memcpy(out, v, n);
      out[n] = '\0';
      return 1;
    }
    p = skip_ws(value_end, end);
    if (p < end && *p == ',') {
      p = skip_ws(p + 1, end);
      continue;
    }
    if (p < end && *p == '}') return 0;
    return -2;
  }
  return -2;
}

static long ms_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const char *command = getenv("CNI_COMMAND");

  struct buf in = {0};
  char chunk[65536];
  for (;;) {
    ssize_t n = read(0, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failf(5, strerror(errno), "tskube-cni-shim: cannot read the network config on stdin");
    if (n == 0) break;
    if (in.len + (size_t)n > MAX_BYTES) failf(5, NULL, "tskube-cni-shim: more than %d bytes on stdin", MAX_BYTES);
    buf_add(&in, chunk, (size_t)n);
  }
  if (in.len == 0) buf_add(&in, "", 0);
  if (top_level_string(in.data, in.len, "cniVersion", cni_version, sizeof cni_version) != 1) cni_version[0] = '\0';

  if (!command || !*command) fail(4, "tskube-cni-shim: CNI_COMMAND is not set", "it is a CNI plugin: the container runtime runs it");
  if (strcmp(command, "VERSION") == 0) {
    printf("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":%s}\n", SUPPORTED_VERSIONS);
    return 0;
  }

  char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  int found = top_level_string(in.data, in.len, "socket", socket_path, sizeof socket_path);
  /* A config that is not JSON goes to the kubelet on the default socket, which says what is wrong with it. */
  if (found == -1) fail(7, "tskube-cni-shim: \"socket\" in the network config must be a unix socket path (a string without escapes, at most 107 bytes)", NULL);
  if (found != 1) snprintf(socket_path, sizeof socket_path, "%s", DEFAULT_SOCKET);

  /* The call: the protocol line with the size of stdin, every CNI_* variable, a blank line, stdin. */
  struct buf req = {0};
  char header[64];
  snprintf(header, sizeof header, PROTOCOL " %zu\n", in.len);
  buf_add(&req, header, strlen(header));
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, "CNI_", 4) != 0) continue;
    if (strchr(*e, '\n')) failf(4, NULL, "tskube-cni-shim: environment variable %.*s has a newline in its value", (int)(strchr(*e, '=') ? strchr(*e, '=') - *e : 20), *e);
    buf_add(&req, *e, strlen(*e));
    buf_add(&req, "\n", 1);
  }
  buf_add(&req, "\n", 1);
  buf_add(&req, in.data, in.len);

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) failf(5, strerror(errno), "tskube-cni-shim: cannot make a unix socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
  while (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    if (errno == EINTR) continue;
    char details[512];
    snprintf(details, sizeof details, "connect: %s (the kubelet listens there when it runs with --network-plugin=cni; is it running?)", strerror(errno));
    failf(11, details, "cannot reach the tskube kubelet at %s", socket_path);
  }
  write_all(fd, req.data, req.len, socket_path);

  struct buf out = {0};
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    long left = ANSWER_TIMEOUT_MS - ms_since(&start);
    if (left <= 0) failf(11, NULL, "no answer from the tskube kubelet at %s within %d s", socket_path, ANSWER_TIMEOUT_MS / 1000);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) failf(5, strerror(errno), "tskube-cni-shim: poll on %s failed", socket_path);
    if (r == 0) continue;
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failf(11, strerror(errno), "the tskube kubelet at %s closed the connection before answering", socket_path);
    if (n == 0) break;
    if (out.len + (size_t)n > MAX_BYTES) failf(5, NULL, "the tskube kubelet at %s answered with more than %d bytes", socket_path, MAX_BYTES);
    buf_add(&out, chunk, (size_t)n);
  }
  close(fd);

  /* "TSKUBE-CNI-SHIM/1 <exit>\n" then stdout. */
  const char *nl = out.len ? memchr(out.data, '\n', out.len) : NULL;
  if (!nl) {
    if (out.len == 0) failf(11, "it may have stopped or restarted during the call", "the tskube kubelet at %s closed the connection before answering", socket_path);
    failf(999, NULL, "the tskube kubelet at %s answered in a form this shim does not read (want \"" PROTOCOL " <exit code>\")", socket_path);
  }
  size_t plen = strlen(PROTOCOL);
  char *endp = NULL;
  long exit_code = -1;
  if ((size_t)(nl - out.data) > plen + 1 && memcmp(out.data, PROTOCOL " ", plen + 1) == 0) exit_code = strtol(out.data + plen + 1, &endp, 10);
  if (exit_code < 0 || exit_code > 255 || endp != nl) {
    failf(999, NULL, "the tskube kubelet at %s answered in a form this shim does not read: %.*s", socket_path, (int)(nl - out.data > 80 ? 80 : nl - out.data), out.data);
  }
  size_t body = out.len - (size_t)(nl + 1 - out.data);
  if (body > 0 && fwrite(nl + 1, 1, body, stdout) != body) return 1;
  return (int)exit_code;
}

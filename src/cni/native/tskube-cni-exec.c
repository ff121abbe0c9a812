/*
 * tskube-cni-exec: starts CNI plugins for a Node process (src/cni/helper-exec.ts). Node's
 * child_process forks the whole Node process for every plugin (libuv: clone without
 * CLONE_VM), which costs milliseconds per plugin on a busy machine; this small process
 * starts them with posix_spawn (glibc: CLONE_VM|CLONE_VFORK), like Go's os/exec does for
 * containerd. One helper serves any number of runs at once.
 *
 * Frames on stdin and stdout, little-endian: u32 length, then the body.
 *   run   (Node -> helper): u32 id, u8 1, u32 argc, argc x (u32 len, bytes), u32 envc, envc x (u32 len, bytes "K=V"),
 *                            u32 stdin len, stdin bytes
 *   kill  (Node -> helper): u32 id, u8 2                       SIGKILL to the run's process group
 *   done  (helper -> Node): u32 id, u8 3, u8 how (0 exited, 1 killed by a signal, 2 could not start), i32 value
 *                            (exit code, signal number or errno), u8 overflowed, u32 stdout len, bytes, u32 stderr len, bytes
 *
 * Each plugin runs in a process group of its own (a kill ends what it started too) with the
 * default signal dispositions. Output beyond 4 MiB a stream kills the group. A run is done
 * when the plugin has exited and closed its output, or 2 s after it exited while something
 * it left behind still holds the output open. EOF on stdin ends the helper; it also dies
 * with its parent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_OUTPUT (4u * 1024 * 1024)
#define MAX_FRAME (64u * 1024 * 1024)
#define EXIT_GRACE_MS 2000
#define MAX_RUNS 256

struct buf {
  uint8_t *data;
  size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) {
      fputs("tskube-cni-exec: out of memory\n", stderr);
      exit(70);
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void buf_drop(struct buf *b, size_t n) {
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

struct run {
  int used;
  uint32_t id;
  pid_t pid;
  int in_fd, out_fd, err_fd;
  struct buf in, out, err;
  size_t in_off;
  int exited, status, overflowed;
  long exited_at;
};

static struct run runs[MAX_RUNS];
static struct buf to_node;

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void put_u32(struct buf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  buf_add(b, x, 4);
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void send_done(uint32_t id, int how, int32_t value, int overflowed, struct buf *out, struct buf *err) {
  size_t body = 4 + 1 + 1 + 4 + 1 + 4 + (out ? out->len : 0) + 4 + (err ? err->len : 0);
  put_u32(&to_node, (uint32_t)body);
  put_u32(&to_node, id);
  uint8_t t = 3, h = (uint8_t)how, o = (uint8_t)overflowed;
  buf_add(&to_node, &t, 1);
  buf_add(&to_node, &h, 1);
  put_u32(&to_node, (uint32_t)value);
  buf_add(&to_node, &o, 1);
  put_u32(&to_node, out ? (uint32_t)out->len : 0);
  if (out && out->len) buf_add(&to_node, out->data, out->len);
  put_u32(&to_node, err ? (uint32_t)err->len : 0);
  if (err && err->len) buf_add(&to_node, err->data, err->len);
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void finish(struct run *r) {
  int how = WIFSIGNALED(r->status) ? 1 : 0;
  int32_t value = WIFSIGNALED(r->status) ? WTERMSIG(r->status) : WEXITSTATUS(r->status);
  send_done(r->id, how, value, r->overflowed, &r->out, &r->err);
  close_fd(&r->in_fd);
  close_fd(&r->out_fd);
  close_fd(&r->err_fd);
  free(r->in.data);
  free(r->out.data);
  free(r->err.data);
  memset(r, 0, sizeof *r);
}

static struct run *find_run(uint32_t id) {
  for (int i = 0; i < MAX_RUNS; i++)
    if (runs[i].used && runs[i].id == id) return &runs[i];
  return NULL;
}

/* Reads `n` length-prefixed strings from p (bounded by end) into a NULL-terminated array. */
static char **read_strings(const uint8_t **p, const uint8_t *end, uint32_t *count_out) {
  if (end - *p < 4) return NULL;
  uint32_t n = get_u32(*p);
  *p += 4;
  if (n > 65536) return NULL;
  char **list = calloc(n + 1, sizeof *list);
  if (!list) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    if (end - *p < 4) return NULL;
    uint32_t len = get_u32(*p);
    *p += 4;
    if ((uint32_t)(end - *p) < len) return NULL;
    list[i] = strndup((const char *)*p, len);
    *p += len;
  }
  *count_out = n;
  return list;
}

static void free_strings(char **list) {
  if (!list) return;
  for (char **s = list; *s; s++) free(*s);
  free(list);
}

static void start_run(uint32_t id, const uint8_t *p, const uint8_t *end) {
  uint32_t argc = 0, envc = 0;
  char **argv = read_strings(&p, end, &argc);
  char **envp = argv ? read_strings(&p, end, &envc) : NULL;
  if (!argv || !envp || argc == 0 || end - p < 4 || (uint32_t)(end - p - 4) < get_u32(p)) {
    free_strings(argv);
    free_strings(envp);
    send_done(id, 2, EINVAL, 0, NULL, NULL);
    return;
  }
  uint32_t in_len = get_u32(p);
  p += 4;
  struct run *r = NULL;
  for (int i = 0; i < MAX_RUNS && !r; i++)
    if (!runs[i].used) r = &runs[i];
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (!r || pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    int e = r ? errno : EAGAIN;
    for (int i = 0; i < 2; i++) {
      if (in[i] >= 0) close(in[i]);
      if (out[i] >= 0) close(out[i]);
      if (err[i] >= 0) close(err[i]);
    }
    free_strings(argv);
    free_strings(envp);
    send_done(id, 2, e, 0, NULL, NULL);
    return;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_USEVFORK);
  pid_t pid;
  /* argv[0] is a plugin's absolute path, or a wrapper (ip netns exec) found on the helper's PATH. */
  int e = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  free_strings(argv);
  free_strings(envp);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (e != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    send_done(id, 2, e, 0, NULL, NULL);
    return;
  }
  memset(r, 0, sizeof *r);
  r->used = 1;
  r->id = id;
  r->pid = pid;
  r->in_fd = in[1];
  r->out_fd = out[0];
  r->err_fd = err[0];
  fcntl(r->in_fd, F_SETFL, O_NONBLOCK);
  buf_add(&r->in, p, in_len);
  if (in_len == 0) close_fd(&r->in_fd);
}

static void handle_frame(const uint8_t *p, size_t n) {
  if (n < 5) return;
  uint32_t id = get_u32(p);
  uint8_t type = p[4];
  if (type == 1) {
    start_run(id, p + 5, p + n);
  } else if (type == 2) {
    struct run *r = find_run(id);
    if (r) kill(-r->pid, SIGKILL);
  }
}

/* Reads what a run printed; beyond MAX_OUTPUT the group is killed; EOF closes the pipe. */
static void drain(struct run *r, int *fd, struct buf *b) {
  uint8_t chunk[65536];
  ssize_t n = read(*fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    close_fd(fd);
    return;
  }
  if (b->len + (size_t)n > MAX_OUTPUT) {
    r->overflowed = 1;
    kill(-r->pid, SIGKILL);
    close_fd(fd);
    return;
  }
  buf_add(b, chunk, (size_t)n);
}

int main(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 0;
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  fcntl(0, F_SETFL, O_NONBLOCK);
  fcntl(1, F_SETFL, O_NONBLOCK);
  struct buf from_node = {0};
  int node_open = 1;
  for (;;) {
    struct pollfd fds[3 + 3 * MAX_RUNS];
    struct run *owner[3 + 3 * MAX_RUNS];
    int kind[3 + 3 * MAX_RUNS];
    int n = 0, active = 0;
    long now = now_ms(), timeout = -1;
    /* Runs that are done first, so their answers are in to_node before the poll set is made. */
    for (int i = 0; i < MAX_RUNS; i++) {
      struct run *r = &runs[i];
      if (r->used && r->exited && (now - r->exited_at >= EXIT_GRACE_MS || (r->out_fd < 0 && r->err_fd < 0))) finish(r);
    }
    if (node_open) fds[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    if (to_node.len) fds[n++] = (struct pollfd){.fd = 1, .events = POLLOUT};
    int fixed = n;
    for (int i = 0; i < MAX_RUNS; i++) {
      struct run *r = &runs[i];
      if (!r->used) continue;
      active++;
      if (r->exited) {
        long left = EXIT_GRACE_MS - (now - r->exited_at);
        if (timeout < 0 || left < timeout) timeout = left;
      }
      if (r->in_fd >= 0) owner[n] = r, kind[n] = 0, fds[n++] = (struct pollfd){.fd = r->in_fd, .events = POLLOUT};
      if (r->out_fd >= 0) owner[n] = r, kind[n] = 1, fds[n++] = (struct pollfd){.fd = r->out_fd, .events = POLLIN};
      if (r->err_fd >= 0) owner[n] = r, kind[n] = 2, fds[n++] = (struct pollfd){.fd = r->err_fd, .events = POLLIN};
    }
    if (!node_open && active == 0 && to_node.len == 0) return 0;
    int ready = poll(fds, (nfds_t)n, (int)timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return 71;
    for (int i = 0; i < n; i++) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == 0 && i < fixed) {
        uint8_t chunk[65536];
        ssize_t got = read(0, chunk, sizeof chunk);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
          node_open = 0;
          continue;
        }
        if (got > 0) buf_add(&from_node, chunk, (size_t)got);
        while (from_node.len >= 4) {
          uint32_t len = get_u32(from_node.data);
          if (len > MAX_FRAME) return 72;
          if (from_node.len < 4 + (size_t)len) break;
          handle_frame(from_node.data + 4, len);
          buf_drop(&from_node, 4 + (size_t)len);
        }
      } else if (fds[i].fd == sfd && i < fixed) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        }
        for (int j = 0; j < MAX_RUNS; j++) {
          struct run *r = &runs[j];
          if (!r->used || r->exited) continue;
          int status;
          if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
            r->exited = 1;
            r->status = status;
            r->exited_at = now_ms();
            close_fd(&r->in_fd);
          }
        }
      } else if (fds[i].fd == 1 && i < fixed) {
        ssize_t w = write(1, to_node.data, to_node.len);
        if (w > 0) buf_drop(&to_node, (size_t)w);
        else if (w < 0 && errno != EAGAIN && errno != EINTR) return 73;
      } else {
        struct run *r = owner[i];
        if (!r->used) continue;
        if (kind[i] == 0) {
          ssize_t w = write(r->in_fd, r->in.data + r->in_off, r->in.len - r->in_off);
          if (w > 0) r->in_off += (size_t)w;
          if ((w < 0 && errno != EAGAIN && errno != EINTR) || r->in_off >= r->in.len) close_fd(&r->in_fd);
        } else if (kind[i] == 1) {
          drain(r, &r->out_fd, &r->out);
        } else {
          drain(r, &r->err_fd, &r->err);
        }
      }
    }
  }
}

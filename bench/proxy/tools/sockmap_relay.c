// sockmap_relay: a measuring stick, not a relay to ship.
//
// Question it answers: would moving the byte pump into the kernel with a BPF sockmap (an sk_skb
// verdict program that redirects every skb received on one socket to the egress of its peer, as
// Cilium and merbridge do) beat splice(2) through pipes? bench.py runs it as peer `sockmap-exp`,
// for the iperf3 tests only.
//
// What it does: listens on 127.0.0.1/0.0.0.0:15001 (REDIRECT), reads SO_ORIGINAL_DST, connects
// (blocking), then puts both sockets in a SOCKMAP and records "cookie -> peer slot" in a hash map
// that the verdict program reads. Drops to uid/gid 1337 after loading the program.
// What it does not do (why it is not a relay): bytes that arrived before the sockets entered the
// map are forwarded from user space after a 20 ms pause, which can reorder them under load; closed
// connections are never removed from the maps; no IPv6, no timeouts, no half-close handling.
// Needs: root (BPF_PROG_LOAD of an sk_skb program), kernel >= 5.13 (BPF_SK_SKB_VERDICT).
// The program is written as raw BPF instructions so that no clang/libbpf is needed to build it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SO_ORIGINAL_DST 80

static long bpf(int cmd, union bpf_attr* a) { return syscall(SYS_bpf, cmd, a, sizeof(*a)); }

static int map_create(int type, int key_size, int value_size, int entries) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = type;
  a.key_size = key_size;
  a.value_size = value_size;
  a.max_entries = entries;
  return (int)bpf(BPF_MAP_CREATE, &a);
}

static int map_update(int fd, const void* key, const void* value) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = fd;
  a.key = (unsigned long)key;
  a.value = (unsigned long)value;
  a.flags = BPF_ANY;
  return (int)bpf(BPF_MAP_UPDATE_ELEM, &a);
}

#define INSN(code, dst, src, off, imm) ((struct bpf_insn){code, dst, src, off, imm})

// Loads the verdict program and attaches it to the sockmap; 0 on success.
static int attach_verdict(int sockmap, int peers) {
  // r0 = peer slot of this socket (by cookie); none -> SK_PASS (bytes stay readable);
  // else return bpf_sk_redirect_map(skb, sockmap, slot, 0 = egress of the peer).
  struct bpf_insn prog[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_socket_cookie),
      INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -8, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
      INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -8),
      INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, peers),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
      INSN(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 2, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, SK_PASS),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
      INSN(BPF_LDX | BPF_MEM | BPF_W, 3, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, sockmap),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_map),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  static char verifier_log[65536];
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_SK_SKB;
  a.insns = (unsigned long)prog;
  a.insn_cnt = sizeof prog / sizeof prog[0];
  a.license = (unsigned long)"GPL";
  a.log_buf = (unsigned long)verifier_log;
  a.log_size = sizeof verifier_log;
  a.log_level = 1;
  int prog_fd = (int)bpf(BPF_PROG_LOAD, &a);
  if (prog_fd < 0) {
    perror("sockmap_relay: BPF_PROG_LOAD");
    fprintf(stderr, "%s\n", verifier_log);
    return 1;
  }
  memset(&a, 0, sizeof a);
  a.target_fd = sockmap;
  a.attach_bpf_fd = prog_fd;
  a.attach_type = BPF_SK_SKB_VERDICT;
  if (bpf(BPF_PROG_ATTACH, &a) < 0) {
    perror("sockmap_relay: BPF_PROG_ATTACH");
    return 1;
  }
  return 0;
}

// Accepts, connects to the original destination, and hands both sockets to the program.
static void relay(int ls, int sockmap, int peers) {
  unsigned slot = 0;
  static char buf[65536];
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) continue;
    struct sockaddr_in od;
    socklen_t len = sizeof od;
    if (getsockopt(c, SOL_IP, SO_ORIGINAL_DST, &od, &len) < 0) {
      close(c);
      continue;
    }
    int u = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(u, (struct sockaddr*)&od, sizeof od) < 0) {
      perror("sockmap_relay: connect");
      close(c);
      close(u);
      continue;
    }
    unsigned slot_c = slot++ % 65536, slot_u = slot++ % 65536;
    unsigned long long cookie_c = 0, cookie_u = 0;
    socklen_t l8 = sizeof cookie_c;
    getsockopt(c, SOL_SOCKET, SO_COOKIE, &cookie_c, &l8);
    l8 = sizeof cookie_u;
    getsockopt(u, SOL_SOCKET, SO_COOKIE, &cookie_u, &l8);
    if (map_update(peers, &cookie_c, &slot_u) < 0 || map_update(peers, &cookie_u, &slot_c) < 0 ||
        map_update(sockmap, &slot_c, &c) < 0 || map_update(sockmap, &slot_u, &u) < 0) {
      perror("sockmap_relay: BPF_MAP_UPDATE_ELEM");
      close(c);
      close(u);
      continue;
    }
    // Bytes queued before the sockets entered the map never reach the verdict program.
    usleep(20000);
    for (int k = 0; k < 2; k++) {
      int from = k ? u : c, to = k ? c : u;
      ssize_t n = recv(from, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0 && send(to, buf, (size_t)n, 0) != n) perror("sockmap_relay: forward leftover");
    }
  }
}

int main(void) {
  int sockmap = map_create(BPF_MAP_TYPE_SOCKMAP, 4, 4, 65536);
  int peers = map_create(BPF_MAP_TYPE_HASH, 8, 4, 65536);
  if (sockmap < 0 || peers < 0) {
    perror("sockmap_relay: BPF_MAP_CREATE");
    return 1;
  }
  if (attach_verdict(sockmap, peers) != 0) return 1;
  int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons(15001)};
  if (bind(ls, (struct sockaddr*)&la, sizeof la) < 0 || listen(ls, 1024) < 0) {
    perror("sockmap_relay: listen on :15001");
    return 1;
  }
  if (setgid(1337) < 0 || setuid(1337) < 0) {
    perror("sockmap_relay: setuid 1337");
    return 1;
  }
  fprintf(stderr, "sockmap_relay: listening on :15001\n");
  relay(ls, sockmap, peers);
}

// The least any in-process nftables apply does: dlopen libnftables, run one file, exit.
// usage: nft_floor FILE [linger]
// With "linger", a child inherits the netlink socket and holds it for 200 ms after the parent
// exits, so the parent's exit does not wait for nf_tables' close-time flush (bench/nft.sh).
#include <dlfcn.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  void* lib = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib || argc < 2) return 2;
  struct nft_ctx* (*ctx_new)(uint32_t) = (struct nft_ctx * (*)(uint32_t)) dlsym(lib, "nft_ctx_new");
  int (*run_file)(struct nft_ctx*, const char*) =
      (int (*)(struct nft_ctx*, const char*))dlsym(lib, "nft_run_cmd_from_filename");
  struct nft_ctx* ctx = ctx_new(0);
  if (run_file(ctx, argv[1]) != 0) return 1;
  if (argc > 2 && fork() == 0) {
    usleep(200000);
    _exit(0);
  }
  _exit(0);  // no nft_ctx_free: the socket closes with the last process holding it
}

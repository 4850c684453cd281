// null_milter: the do-nothing libmilter filter of the issue 6 benchmarks (tests/bench/README.md).
//
// It registers the same callbacks as mailjournald and answers CONTINUE to every one, so it
// costs what libmilter and the milter protocol cost and nothing else: the baseline that
// mailjournald's figures are divided by. It negotiates like mailjournald (SMFIP_HDR_LEADSPC
// when offered, no actions), so the MTA sends it the same events.
//
//   null_milter SOCKET        e.g. inet:8899@127.0.0.1 or unix:/run/null.sock
//
// It runs in the foreground until SIGTERM or SIGINT.
#include <libmilter/mfapi.h>

#include <cstdio>
#include <cstring>

namespace {

sfsistat Continue(SMFICTX*) { return SMFIS_CONTINUE; }
sfsistat OnConnect(SMFICTX*, char*, _SOCK_ADDR*) { return SMFIS_CONTINUE; }
sfsistat OnString(SMFICTX*, char*) { return SMFIS_CONTINUE; }
sfsistat OnArgs(SMFICTX*, char**) { return SMFIS_CONTINUE; }
sfsistat OnHeader(SMFICTX*, char*, char*) { return SMFIS_CONTINUE; }
sfsistat OnBody(SMFICTX*, unsigned char*, size_t) { return SMFIS_CONTINUE; }

sfsistat OnNegotiate(SMFICTX*, unsigned long, unsigned long steps, unsigned long, unsigned long,
                     unsigned long* out_actions, unsigned long* out_steps, unsigned long* out_f2,
                     unsigned long* out_f3) {
  *out_actions = 0;
  *out_steps = steps & (SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN);
  *out_f2 = 0;
  *out_f3 = 0;
  return SMFIS_CONTINUE;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::strchr(argv[1], ':') == nullptr) {
    std::fprintf(stderr, "usage: null_milter SOCKET (inet:PORT@127.0.0.1 or unix:PATH)\n");
    return 2;
  }
  static char name[] = "null_milter";
  struct smfiDesc desc = {};
  desc.xxfi_name = name;
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = 0;
  desc.xxfi_connect = OnConnect;
  desc.xxfi_helo = OnString;
  desc.xxfi_envfrom = OnArgs;
  desc.xxfi_envrcpt = OnArgs;
  desc.xxfi_header = OnHeader;
  desc.xxfi_eoh = Continue;
  desc.xxfi_body = OnBody;
  desc.xxfi_eom = Continue;
  desc.xxfi_abort = Continue;
  desc.xxfi_close = Continue;
  desc.xxfi_data = Continue;
  desc.xxfi_negotiate = OnNegotiate;
  if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS ||
      smfi_opensocket(true) != MI_SUCCESS) {
    std::fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
    return 1;
  }
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}

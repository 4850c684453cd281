// null_milter: the do-nothing libmilter filter of the issue 6 benchmarks (tests/bench/README.md).
//
// It registers the same callbacks as mailjournald and answers CONTINUE to every one, so it
// costs what libmilter and the milter protocol cost and nothing else: the baseline that
// mailjournald's figures are divided by. It negotiates no actions and, by default, the
// protocol steps mailjournald negotiates on an inet: socket (SMFIP_HDR_LEADSPC and
// SMFIP_NOUNKNOWN, when offered), so the MTA sends it the same events; --steps makes it
// negotiate what mailjournald negotiates elsewhere (on a unix: socket it also asks for no
// replies to some events), as milter_load --negotiate-only prints it.
//
//   null_milter SOCKET                e.g. inet:8899@127.0.0.1 or unix:/run/null.sock
//   null_milter SOCKET --steps MASK   the SMFIP_* steps MASK (e.g. 0x1d3180), of those offered
//   null_milter SOCKET --no-reply     the default steps and every SMFIP_NR_* step (CONNECT,
//                                     HELO, MAIL, RCPT, DATA, HEADER, EOH, BODY): only the end
//                                     of message is answered (milter_load's tests use it)
//
// An event whose SMFIP_NR_* step was negotiated returns SMFIS_NOREPLY (libmilter requires
// it); every other one CONTINUE.
//
// It runs in the foreground until SIGTERM or SIGINT.
#include <libmilter/mfapi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr unsigned long kNoReplySteps = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
                                        SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_HDR |
                                        SMFIP_NR_EOH | SMFIP_NR_BODY;
// The steps to negotiate (of those offered): set before smfi_main, read-only after.
unsigned long g_steps = SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN;

// What an event answers: nothing when its SMFIP_NR_* step was negotiated (libmilter requires
// SMFIS_NOREPLY then), else CONTINUE.
sfsistat Reply(SMFICTX* ctx, unsigned long step) {
  const unsigned long* negotiated = static_cast<const unsigned long*>(smfi_getpriv(ctx));
  return negotiated != nullptr && (*negotiated & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

sfsistat Continue(SMFICTX*) { return SMFIS_CONTINUE; }
sfsistat OnConnect(SMFICTX* ctx, char*, _SOCK_ADDR*) { return Reply(ctx, SMFIP_NR_CONN); }
sfsistat OnHelo(SMFICTX* ctx, char*) { return Reply(ctx, SMFIP_NR_HELO); }
sfsistat OnMail(SMFICTX* ctx, char**) { return Reply(ctx, SMFIP_NR_MAIL); }
sfsistat OnRcpt(SMFICTX* ctx, char**) { return Reply(ctx, SMFIP_NR_RCPT); }
sfsistat OnData(SMFICTX* ctx) { return Reply(ctx, SMFIP_NR_DATA); }
sfsistat OnHeader(SMFICTX* ctx, char*, char*) { return Reply(ctx, SMFIP_NR_HDR); }
sfsistat OnEndOfHeaders(SMFICTX* ctx) { return Reply(ctx, SMFIP_NR_EOH); }
sfsistat OnBody(SMFICTX* ctx, unsigned char*, size_t) { return Reply(ctx, SMFIP_NR_BODY); }
sfsistat OnClose(SMFICTX* ctx) {
  delete static_cast<unsigned long*>(smfi_getpriv(ctx));
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

sfsistat OnNegotiate(SMFICTX* ctx, unsigned long, unsigned long steps, unsigned long, unsigned long,
                     unsigned long* out_actions, unsigned long* out_steps, unsigned long* out_f2,
                     unsigned long* out_f3) {
  *out_actions = 0;
  *out_steps = steps & g_steps;
  if (*out_steps & kNoReplySteps) {
    delete static_cast<unsigned long*>(smfi_getpriv(ctx));
    smfi_setpriv(ctx, new unsigned long(*out_steps));
  }
  *out_f2 = 0;
  *out_f3 = 0;
  return SMFIS_CONTINUE;
}

}  // namespace

int main(int argc, char** argv) {
  bool ok = argc >= 2 && std::strchr(argv[1], ':') != nullptr;
  if (ok && argc == 3 && std::strcmp(argv[2], "--no-reply") == 0) {
    g_steps |= kNoReplySteps;
  } else if (ok && argc == 4 && std::strcmp(argv[2], "--steps") == 0) {
    char* end = nullptr;
    g_steps = std::strtoul(argv[3], &end, 0);
    ok = end != argv[3] && *end == '\0';
  } else {
    ok = ok && argc == 2;
  }
  if (!ok) {
    std::fprintf(stderr,
                 "usage: null_milter SOCKET [--steps MASK | --no-reply] (SOCKET: "
                 "inet:PORT@127.0.0.1 or unix:PATH)\n");
    return 2;
  }
  static char name[] = "null_milter";
  struct smfiDesc desc = {};
  desc.xxfi_name = name;
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = 0;
  desc.xxfi_connect = OnConnect;
  desc.xxfi_helo = OnHelo;
  desc.xxfi_envfrom = OnMail;
  desc.xxfi_envrcpt = OnRcpt;
  desc.xxfi_header = OnHeader;
  desc.xxfi_eoh = OnEndOfHeaders;
  desc.xxfi_body = OnBody;
  desc.xxfi_eom = Continue;
  desc.xxfi_abort = Continue;
  desc.xxfi_close = OnClose;
  desc.xxfi_data = OnData;
  desc.xxfi_negotiate = OnNegotiate;
  if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS ||
      smfi_opensocket(true) != MI_SUCCESS) {
    std::fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
    return 1;
  }
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}

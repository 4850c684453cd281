// mailjournal export --bundle: the evidence bundle (mailjournal(8), EVIDENCE BUNDLE).
//
// Everything in a bundle comes from admin-protocol answers, so a bundle is the same whether
// the tool asks the daemon or opens the journal itself. Per message, in this order: its
// entry ("show"), its stored bytes ("export": the daemon checks the export grant and
// records the export), the dispose entry when its content is gone, its inclusion proof
// against the one checkpoint of the bundle ("proof"), and last the access entries about it
// ("audit"), which then include this bundle's own requests. Its files are written only
// after all of that has been fetched and checked.
#include <dirent.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "mailjournal/access.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/checkpoint.h"
#include "mailjournal/merkle.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"
#include "output.h"

namespace mailjournal {

using nlohmann::json;

namespace {

constexpr char kVerifierKeyFile[] = "checkpoint.vkey";

std::string ErrnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

// `dir` without trailing slashes ("/" stays).
std::string Trimmed(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// Sets *exists; InvalidArgument when `dir` exists and is not an empty directory.
Status InspectBundleDir(const std::string& dir, bool* exists) {
  struct stat st;
  *exists = stat(dir.c_str(), &st) == 0;
  if (!*exists) {
    if (errno != ENOENT) return Status::InvalidArgument(ErrnoText(dir));
    std::string parent = std::filesystem::path(Trimmed(dir)).parent_path().string();
    if (parent.empty()) parent = ".";
    if (stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument(dir + ": its parent directory " + parent + " does not exist");
    }
    return Status::OK();
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(dir + ": exists and is not a directory");
  }
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Status::InvalidArgument(ErrnoText(dir));
  bool empty = true;
  while (struct dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
  }
  closedir(d);
  if (!empty) {
    return Status::InvalidArgument(dir +
                                   ": not empty; an evidence bundle is written only into a new "
                                   "or empty directory, never over other files");
  }
  return Status::OK();
}

// The files of a bundle being written. Each file appears complete under its name and
// nothing is overwritten (Output); unless Keep() is called, whatever was created is removed
// again on destruction, so a failed bundle leaves the directory as it was.
class BundleFiles {
 public:
  explicit BundleFiles(std::string dir) : dir_(Trimmed(std::move(dir))) {}
  ~BundleFiles() {
    if (keep_) return;
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) unlink(it->c_str());
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) rmdir(it->c_str());
  }
  BundleFiles(const BundleFiles&) = delete;
  BundleFiles& operator=(const BundleFiles&) = delete;

  // The bundle's directory: an empty one, or a new one made here.
  Status Begin() {
    bool exists = false;
    Status s = InspectBundleDir(dir_, &exists);
    if (!s.ok()) return Status::IOError(s.message());
    if (exists) return Status::OK();
    if (mkdir(dir_.c_str(), 0700) != 0) return Status::IOError(ErrnoText("cannot create " + dir_));
    dirs_.push_back(dir_);
    return Status::OK();
  }
  Status MakeDir(const std::string& name) {
    std::string path = dir_ + "/" + name;
    if (mkdir(path.c_str(), 0700) != 0) return Status::IOError(ErrnoText("cannot create " + path));
    dirs_.push_back(path);
    return Status::OK();
  }
  Status Write(const std::string& name, std::string_view bytes) {
    std::string path = dir_ + "/" + name;
    Output out;
    Status s = out.Open(path);
    if (s.ok()) s = out.Write(bytes);
    if (s.ok()) s = out.Commit();
    if (s.ok()) files_.push_back(path);
    return s;
  }
  // Makes the names of what was written durable (the files themselves are synced already).
  Status Sync() {
    std::vector<std::string> dirs = dirs_;
    if (dirs.empty() || dirs.front() != dir_) dirs.push_back(dir_);
    for (const std::string& d : dirs) {
      int fd = open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      bool ok = fd >= 0 && fsync(fd) == 0;
      if (fd >= 0) close(fd);
      if (!ok) return Status::IOError(ErrnoText("cannot sync " + d));
    }
    return Status::OK();
  }
  void Keep() { keep_ = true; }

 private:
  const std::string dir_;
  std::vector<std::string> files_, dirs_;  // created, in order
  bool keep_ = false;
};

// What is known of one message of the bundle.
struct Evidence {
  uint64_t seq = 0;
  json entry;             // as "show" gives it
  uint64_t disposal = 0;  // the dispose entry, when the content was disposed of
  json dispose;           // that entry
  std::string stored;     // the content as stored, unless disposed of
  std::string captured;   // the captured bytes, when known (opened, or not sealed)
  bool captured_known = false;
  std::string not_opened;  // why a sealed message was not opened
  json proof;              // the inclusion proof, with "checkpoint"
  json audit = json::array();

  Evidence() = default;
  Evidence(const Evidence&) = delete;
  Evidence& operator=(const Evidence&) = delete;
  ~Evidence() { OPENSSL_cleanse(captured.data(), captured.size()); }
  bool sealed() const { return entry.value("sealed", false); }
};

// Every access entry about `seq` ("audit" with "seq"), oldest first, page by page.
Status GetAudit(Channel* ch, uint64_t seq, json* entries) {
  json req = Request("audit");
  req["seq"] = seq;
  for (;;) {
    json resp;
    Status s = ch->Call(req, &resp, NoPayload);
    if (!s.ok()) return s;
    for (json& e : resp["entries"]) {
      req["after"] = e["seq"];
      entries->push_back(std::move(e));
    }
    if (!resp.value("more", false)) return Status::OK();
  }
}

Status Collect(Channel* ch, uint64_t seq, const Opener& opener, const ProofQuery& against,
               Evidence* ev) {
  ev->seq = seq;
  json shown;
  Status s = ShowMessage(ch, seq, &shown);
  if (!s.ok()) return s;
  ev->entry = shown["entry"];
  ev->disposal = shown.value("disposal", uint64_t{0});
  s = ExportStored(ch, seq, FetchPurpose::kExport, [&](std::string_view b) {
    ev->stored.append(b);
    return Status::OK();
  });
  if (s.IsNotFound() && ev->disposal != 0) {
    ev->stored.clear();
    json req = Request("show"), resp;
    req["seq"] = ev->disposal;
    s = ch->Call(req, &resp, NoPayload);
    if (s.ok()) ev->dispose = resp["entry"];
  } else if (s.ok() && ev->sealed()) {
    s = opener.Open(ev->entry, ev->stored, &ev->captured);
    ev->captured_known = s.ok();
    // No key given is a recipient's, or the scheme is unknown: the sealed record only.
    if (s.code() == Status::Code::kPermissionDenied || s.code() == Status::Code::kInvalidArgument) {
      ev->not_opened = s.message();
      s = Status::OK();
    }
  } else if (s.ok()) {
    ev->captured = ev->stored;  // written by a version that did not seal
    ev->captured_known = true;
  }
  if (!s.ok()) return s;
  ProofQuery query = against;
  query.seq = seq;
  s = GetCheckedProof(ch, query, &ev->proof);
  if (s.ok()) s = GetAudit(ch, seq, &ev->audit);
  return s;
}

std::string PrettyJson(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Status WriteEvidence(BundleFiles* files, const Evidence& ev, const std::string& note) {
  const std::string d = std::to_string(ev.seq) + "/";
  Status s = files->MakeDir(std::to_string(ev.seq));
  if (s.ok() && ev.disposal == 0 && ev.sealed()) s = files->Write(d + "sealed.p7m", ev.stored);
  if (s.ok() && ev.captured_known) s = files->Write(d + "message.eml", ev.captured);
  if (s.ok()) s = files->Write(d + "entry.json", PrettyJson(ev.entry));
  if (s.ok()) s = files->Write(d + "entry.bin", HexDecode(ev.proof["entry"].get<std::string>()));
  if (s.ok()) s = files->Write(d + "inclusion-proof.json", ToJsonLine(ev.proof));
  if (s.ok()) s = files->Write(d + "checkpoint", note);
  if (s.ok()) s = files->Write(d + "audit.json", PrettyJson(ev.audit));
  if (s.ok() && ev.disposal != 0) s = files->Write(d + "dispose.json", PrettyJson(ev.dispose));
  return s;
}

// ---- README.txt

// What the index and the check of one message need, kept after its files are written.
struct Listed {
  uint64_t seq = 0;
  json entry;
  uint64_t disposal = 0;
  bool captured_known = false;  // message.eml exists
  std::string captured_sha256;  // of message.eml
  std::string not_opened;
  std::string entry_bytes;  // entry.bin
  std::vector<Sha256Digest> path;
};

struct ReadmeFacts {
  std::string made_at, made_by, journal;
  Checkpoint checkpoint;
  std::string key_name, key_id;  // of the checkpoint signature the commands check
  std::string verifier_key;      // its text, when the bundle has checkpoint.vkey
};

// Text that may come from a message's envelope, with control characters as \xHH, so that
// no address can break a line of the index.
std::string Printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string HexOf(const Sha256Digest& d) { return DigestToJson(d).get<std::string>(); }

std::string HexU64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Joined(const json& strings, const char* sep, bool angle) {
  std::string out;
  for (const json& s : strings) {
    if (!out.empty()) out += sep;
    out += angle ? "<" + Printable(s.get<std::string>()) + ">" : Printable(s.get<std::string>());
  }
  return out;
}

// The name and key id (8 lower-case hex digits) of the note's signature by `name`, or of its
// first signature when `name` is "".
bool NoteSignature(const std::string& note, const std::string& name, std::string* found_name,
                   std::string* key_id) {
  const std::string dash = "\xe2\x80\x94 ";  // U+2014 and a space
  size_t blank = note.rfind("\n\n");
  if (blank == std::string::npos) return false;
  size_t pos = blank + 2;
  while (pos < note.size()) {
    size_t end = note.find('\n', pos);
    if (end == std::string::npos) end = note.size();
    std::string line = note.substr(pos, end - pos);
    pos = end + 1;
    size_t space = line.rfind(' ');
    if (line.compare(0, dash.size(), dash) != 0 || space == std::string::npos) continue;
    std::string n = line.substr(dash.size(), space - dash.size());
    if (!name.empty() && n != name) continue;
    std::string b64 = line.substr(space + 1);
    std::vector<unsigned char> raw(b64.size());
    int len = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                              static_cast<int>(b64.size()));
    if (len < 4) continue;
    *found_name = n;
    *key_id = HexEncode(std::string_view(reinterpret_cast<const char*>(raw.data()), 4));
    return true;
  }
  return false;
}

// A transcript: commands for bash and exactly what each prints.
class Transcript {
 public:
  void Command(const std::string& command, const std::vector<std::string>& prints = {}) {
    text_ += "    $ " + command + "\n";
    for (const std::string& line : prints) text_ += "    " + line + "\n";
  }
  void Say(const std::string& prose) { text_ += "  " + prose + "\n"; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

std::string IndexLine(const Listed& m) {
  const json& e = m.entry;
  bool sealed = e.value("sealed", false);
  uint64_t size = sealed ? e["seal"]["plain_size"].get<uint64_t>() : e["size"].get<uint64_t>();
  std::string line = std::to_string(m.seq) + "  " + e["time"].get<std::string>() + "  from <" +
                     Printable(e["mail_from"].get<std::string>()) + ">  to " +
                     Joined(e["rcpt"], ",", true) + "  size " + std::to_string(size) + "  sha256 " +
                     (m.captured_known ? m.captured_sha256 : "-") + "  departments " +
                     Joined(e["departments"], ",", false) + "  retention " +
                     Printable(e["retention"].get<std::string>()) + " until " +
                     e["retain_until"].get<std::string>();
  if (m.disposal != 0) line += "  DISPOSED OF";
  if (!m.not_opened.empty()) line += "  not opened";
  return line;
}

std::string CheckMessage(const Listed& m, const ReadmeFacts& f) {
  const std::string seq = std::to_string(m.seq);
  const std::string d = seq + "/";
  const std::string vkey = f.verifier_key.empty() ? "VKEY" : kVerifierKeyFile;
  const json& e = m.entry;
  Transcript t;
  t.Say("1. The checkpoint carries a valid signature of the journal's checkpoint key:");
  t.Command("t=$(mktemp -d)");
  t.Command("sed '/^$/,$d' " + d + "checkpoint > \"$t/signed\"");
  t.Command("grep \"^\xe2\x80\x94 $(cut -d+ -f1 " + vkey + ") \" " + d +
            "checkpoint | cut -d' ' -f3 | base64 -d > \"$t/signature\"");
  t.Command("head -c 4 \"$t/signature\" | xxd -p; cut -d+ -f2 " + vkey, {f.key_id, f.key_id});
  t.Command("tail -c 64 \"$t/signature\" > \"$t/ed25519\"");
  t.Command("{ echo 302a300506032b6570032100 | xxd -r -p; cut -d+ -f3- " + vkey +
            " | base64 -d | tail -c 32; } > \"$t/key.der\"");
  t.Command(
      "openssl pkeyutl -verify -pubin -keyform DER -inkey \"$t/key.der\" -rawin -in "
      "\"$t/signed\" -sigfile \"$t/ed25519\"",
      {"Signature Verified Successfully"});
  t.Command("rm -r \"$t\"");
  t.Say("   Its tree: the size (line 2) and the root (line 3, base64):");
  t.Command(
      "sed -n 2p " + d + "checkpoint; sed -n 3p " + d + "checkpoint | base64 -d | xxd -p -c 32",
      {std::to_string(f.checkpoint.size), HexOf(f.checkpoint.root)});
  t.Say("2. The entry is leaf " + std::to_string(m.seq - 1) + " of that tree: its leaf hash, then");
  t.Say("   one node hash per hash of the proof's path, joined on the side that");
  t.Say("   PROOFS, Inclusion proof gives, end at the checkpoint's root:");
  Sha256Digest h = LeafHash(m.entry_bytes);
  t.Command("h=$({ printf '\\0'; cat " + d + "entry.bin; } | sha256sum | cut -c1-64); echo $h",
            {HexOf(h)});
  std::vector<bool> left;
  InclusionPathSides(m.seq - 1, f.checkpoint.size, m.path.size(), &left);
  for (size_t i = 0; i < m.path.size() && i < left.size(); ++i) {
    const std::string p = HexOf(m.path[i]);
    h = left[i] ? NodeHash(m.path[i], h) : NodeHash(h, m.path[i]);
    t.Command("h=$(echo 01 " + (left[i] ? p + " $h" : "$h " + p) +
                  " | xxd -r -p | sha256sum | cut -c1-64); echo $h",
              {HexOf(h)});
  }
  if (m.disposal != 0) {
    t.Say("3. Its content was disposed of: " + d + "dispose.json is dispose entry " +
          std::to_string(m.disposal) + ", which");
    t.Say("   records when, by whom, and under which retention class and date.");
    return t.text();
  }
  const std::string size = std::to_string(e["size"].get<uint64_t>());
  const std::string sha = e["sha256"].get<std::string>();
  const std::string content_fields = "xxd -p " + d + "entry.bin | tr -d '\\n' | grep -o -e 0b08" +
                                     HexU64(e["size"].get<uint64_t>()) + " -e 0c20" + sha;
  if (!e.value("sealed", false)) {
    t.Say("3. message.eml is the content the entry records (size, tag 11; sha256, tag 12):");
    t.Command("wc -c < " + d + "message.eml; sha256sum < " + d + "message.eml",
              {size, sha + "  -"});
    t.Command(content_fields, {"0b08" + HexU64(e["size"].get<uint64_t>()), "0c20" + sha});
    return t.text();
  }
  const json& seal = e["seal"];
  const std::string plain_size = std::to_string(seal["plain_size"].get<uint64_t>());
  const std::string salt = seal["salt"].get<std::string>();
  const std::string digest = seal["plain_digest"].get<std::string>();
  t.Say("3. sealed.p7m is the content the entry records (size, tag 11; sha256, tag 12):");
  t.Command("wc -c < " + d + "sealed.p7m; sha256sum < " + d + "sealed.p7m", {size, sha + "  -"});
  t.Command(content_fields, {"0b08" + HexU64(e["size"].get<uint64_t>()), "0c20" + sha});
  std::string fingerprints = Joined(seal["recipients"], " or ", false);
  const std::string open =
      "openssl cms -decrypt -binary -inform DER -in " + d + "sealed.p7m -inkey KEY | zstd -q -d";
  const std::string fields = "xxd -p " + d + "entry.bin | tr -d '\\n' | grep -o -e 1308" +
                             HexU64(seal["plain_size"].get<uint64_t>()) + " -e 1410" + salt +
                             " -e 1520" + digest;
  const std::vector<std::string> field_lines = {"1308" + HexU64(seal["plain_size"].get<uint64_t>()),
                                                "1410" + salt, "1520" + digest};
  t.Say("4. The private key of a recipient opens it (KEY: a key whose fingerprint,");
  t.Say("   openssl pkey -in KEY -pubout -outform DER | sha256sum, is");
  t.Say("   " + fingerprints + "),");
  if (!m.captured_known) {
    t.Say("   to the message captured: its length and SHA-256 salted with the entry's salt");
    t.Say("   are plain_size (tag 19) and plain_digest (tags 20, 21):");
    t.Command(open + " | wc -c", {plain_size});
    t.Command("{ echo " + salt + " | xxd -r -p; " + open + "; } | sha256sum", {digest + "  -"});
    t.Command(fields, field_lines);
    return t.text();
  }
  t.Say("   to message.eml:");
  t.Command(open + " | cmp - " + d + "message.eml");
  t.Say("5. message.eml is the message captured: its length and SHA-256 salted with the");
  t.Say("   entry's salt are plain_size (tag 19) and plain_digest (tags 20, 21):");
  t.Command("wc -c < " + d + "message.eml; { echo " + salt + " | xxd -r -p; cat " + d +
                "message.eml; } | sha256sum",
            {plain_size, digest + "  -"});
  t.Command(fields, field_lines);
  t.Say("   Its SHA-256, as the index gives it:");
  t.Command("sha256sum < " + d + "message.eml", {m.captured_sha256 + "  -"});
  return t.text();
}

std::string Readme(const ReadmeFacts& f, const std::vector<Listed>& messages) {
  const Checkpoint& c = f.checkpoint;
  std::string title = "EVIDENCE BUNDLE: " + std::to_string(messages.size()) +
                      (messages.size() == 1 ? " message" : " messages") +
                      " from the mail journal " + Printable(c.origin);
  std::string r = title + "\n" + std::string(title.size(), '=') + "\n\n";
  r += "This directory holds messages that mailjournald(8) recorded in a mail journal, each\n"
       "with what is needed to check it without the mailjournal software: the message as it\n"
       "was captured, its sealed record as the journal stores it, the journal entry that\n"
       "records it, the proof that this entry is in the journal's Merkle tree, the signed\n"
       "checkpoint of that tree, and the journal's audit trail of who accessed the message.\n"
       "The formats are those of the manual page mailjournal-format(5) of "
       "mailjournal " MAILJOURNAL_VERSION
       ";\n"
       "names in capitals below are its sections.\n\n";
  r += "Made:          " + f.made_at + "\n";
  r += "Made by:       " + f.made_by + ", with mailjournal " MAILJOURNAL_VERSION "\n";
  r += "Journal:       " + f.journal + "\n";
  r += "Origin:        " + Printable(c.origin) + "\n";
  r += "Checkpoint:    the first " + std::to_string(c.size) + " entries of the journal, root\n";
  r += "               " + HexOf(c.root) + ",\n";
  r += "               signed " + FormatTimeUtc(c.time_us) + " by key " + f.key_name + "+" +
       f.key_id + ";\n";
  r += "               every message is proven against it (SEQ/checkpoint)\n";
  if (!f.verifier_key.empty()) {
    r += "Verifier key:  " + std::string(kVerifierKeyFile) +
         ", with which the checkpoint's signature was checked\n"
         "               when the bundle was made; make sure it is the key the journal's\n"
         "               operator publishes: " +
         f.verifier_key + "\n";
  } else {
    r += "Verifier key:  not included: get the journal's checkpoint verifier key\n"
         "               (" +
         f.key_name + "+" + f.key_id + "+...) from its operator; VKEY below stands for its file\n";
  }
  r += "\nMessages\n--------\n"
       "One line each: the sequence number, the commit time, the sender, the recipients,\n"
       "the size and SHA-256 of the message as captured (SEQ/message.eml; sha256 - when\n"
       "there is none), the departments, and the retention class with the date before\n"
       "which the message may not be disposed of.\n\n";
  std::string notes;
  for (const Listed& m : messages) {
    r += IndexLine(m) + "\n";
    if (m.disposal != 0) {
      notes += std::to_string(m.seq) + ": its content was disposed of (dispose entry " +
               std::to_string(m.disposal) + ", " + std::to_string(m.seq) +
               "/dispose.json): only its entry, proof and audit trail remain.\n";
    } else if (!m.not_opened.empty()) {
      notes += std::to_string(m.seq) + ": not opened, sealed.p7m only: " + m.not_opened + "\n";
    }
  }
  if (!notes.empty()) r += "\n" + notes;
  r += "\nFiles\n-----\n"
       "README.txt            this index\n";
  if (!f.verifier_key.empty())
    r += "checkpoint.vkey       the checkpoint verifier key (Key texts)\n";
  r += "SEQ/                  one directory per message, named by its sequence number:\n"
       "  message.eml           the message exactly as captured (MESSAGE CONTENT); absent\n"
       "                        when it was not opened or was disposed of\n"
       "  sealed.p7m            the message's record exactly as the journal stores it: a CMS\n"
       "                        AuthEnvelopedData, BER (SEALED CONTENT)\n"
       "  entry.bin             the journal entry exactly as stored (ENTRY ENCODING): the\n"
       "                        input of its leaf in the Merkle tree (MERKLE TREE)\n"
       "  entry.json            the same entry decoded, as mailjournal shows it\n"
       "                        (mailjournald(8), The entry object)\n"
       "  inclusion-proof.json  the proof that the entry is leaf SEQ - 1 of the checkpoint's\n"
       "                        tree (PROOFS), as mailjournal proof --inclusion SEQ --format\n"
       "                        json prints it: entry (entry.bin in hex), leaf_hash, path,\n"
       "                        root and the checkpoint\n"
       "  checkpoint            the signed checkpoint (CHECKPOINTS): a signed note of the\n"
       "                        tree's size and root\n"
       "  audit.json            the access entries about the message (Audit trail, below)\n"
       "  dispose.json          the dispose entry of a message whose content was disposed of\n";
  r += "\nAudit trail\n-----------\n"
       "SEQ/audit.json lists, oldest first, the journal's access entries about message SEQ:\n"
       "each request that returned it or named it, allowed or refused, with who made it,\n"
       "when, its arguments and its outcome. It holds those recorded when the bundle read\n"
       "them, last for each message: they include the requests this bundle made for the\n"
       "message (show, export, proof), so its export is on record. The bundle's request for\n"
       "the audit trail itself, and any later access, is recorded in the journal after the\n"
       "entries it lists, not in audit.json. Access entries are entries of the journal like\n"
       "any other, in the same tree.\n";
  r += "\nHow to check a message\n----------------------\n"
       "For each message, the commands below check with standard tools only (bash,\n"
       "coreutils, xxd, OpenSSL 3 and zstd) that\n"
       " 1. the checkpoint carries a valid Ed25519 signature by the journal's checkpoint key\n"
       "    (CHECKPOINTS: Signed note, Key texts); the verifier key's three fields are the\n"
       "    key's name, its key id, and 0x01 and the public key in base64;\n"
       " 2. the entry, entry.bin, is in the tree the checkpoint signs: its leaf hash\n"
       "    SHA-256(0x00 || entry.bin) (MERKLE TREE, Hashes), then one node hash\n"
       "    SHA-256(0x01 || left || right) per hash of the proof's path, joined on the side\n"
       "    that the algorithm of PROOFS, Inclusion proof gives for leaf SEQ - 1 of that\n"
       "    tree, must give the checkpoint's root;\n"
       " 3. the sealed record is the content the entry records: its length and SHA-256;\n"
       " 4. a recipient's private key opens it to message.eml (SEALED CONTENT);\n"
       " 5. message.eml is the message captured: its length, and its SHA-256 salted with\n"
       "    the entry's salt.\n"
       "entry.json shows the entry's fields decoded; to rely on them, decode entry.bin as\n"
       "ENTRY ENCODING describes: the grep commands show that it holds the values used,\n"
       "each as tag, length and value in hex. The proof can also be checked with any\n"
       "implementation of RFC 9162, section 2.1.3.2, such as verify_proofs.py, written from\n"
       "mailjournal-format(5) alone, in the mailjournal sources (tests/independent/):\n"
       "    python3 verify_proofs.py --verifier-key " +
       std::string(f.verifier_key.empty() ? "VKEY" : kVerifierKeyFile) +
       " SEQ/inclusion-proof.json\n"
       "\n"
       "Lines that begin with \"    $ \" are commands for bash, run from this directory in\n"
       "the order given (some set variables that later ones use). The lines below a\n"
       "command, indented alike, are exactly what it must print; a command followed by none\n"
       "prints nothing. Each must succeed (exit status 0). KEY stands for a private key\n"
       "file (OpenSSL asks for its passphrase), VKEY for the checkpoint verifier key file.\n";
  for (const Listed& m : messages) {
    r += "\nMessage " + std::to_string(m.seq) + "\n";
    r += CheckMessage(m, f);
  }
  return r;
}

std::string JournalDescription(const json& status) {
  std::string dir = Printable(status.value("journal", std::string("?")));
  if (status.value("mode", std::string()) == "daemon") {
    return dir + ", through mailjournald (pid " + std::to_string(status.value("pid", 0)) + ")";
  }
  return dir + ", opened directly while mailjournald was stopped";
}

std::string MadeBy() {
  char host[256] = "?";
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  host[sizeof host - 1] = '\0';
  return ProcessCaller().Describe() + " on host " + Printable(host);
}

// The error about message `seq`, naming it unless it does already.
Status Concerning(uint64_t seq, const Status& s) {
  const std::string n = std::to_string(seq);
  for (const std::string& named : {"message " + n, "entry " + n}) {
    size_t at = s.message().find(named);
    if (at != std::string::npos &&
        (at + named.size() == s.message().size() ||
         !std::isdigit(static_cast<unsigned char>(s.message()[at + named.size()])))) {
      return s;
    }
  }
  return Status::FromCode(s.code(), "message " + n + ": " + s.message());
}

}  // namespace

Status CheckBundleDir(const std::string& dir) {
  bool exists = false;
  if (dir.empty()) return Status::InvalidArgument("--bundle: give a directory");
  return InspectBundleDir(dir, &exists);
}

Status WriteBundle(Channel* ch, const std::vector<uint64_t>& wanted, const BundleOptions& o,
                   BundleSummary* summary) {
  std::vector<uint64_t> seqs = wanted;
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  if (seqs.empty()) return Status::InvalidArgument("export --bundle: no message given");
  Opener opener;
  Status s = opener.Load(o.key_files, o.passphrase_file);
  if (!s.ok()) return s;
  ReadmeFacts facts;
  std::unique_ptr<NoteVerifier> verifier;
  if (!o.verifier_key_file.empty()) {
    s = ReadWholeFile(o.verifier_key_file, &facts.verifier_key);
    if (s.ok()) s = NoteVerifier::Create(facts.verifier_key, &verifier);
    if (!s.ok()) return Status::FromCode(s.code(), o.verifier_key_file + ": " + s.message());
    while (!facts.verifier_key.empty() &&
           std::isspace(static_cast<unsigned char>(facts.verifier_key.back()))) {
      facts.verifier_key.pop_back();
    }
  }
  BundleFiles files(o.dir);
  s = files.Begin();
  if (!s.ok()) return s;

  // The journal, and the newest checkpoint: every message is proven against it.
  json status;
  s = ch->Call(Request("status"), &status, NoPayload);
  if (!s.ok()) return s;
  facts.journal = JournalDescription(status["status"]);
  uint64_t last = status["status"].value("last_seq", uint64_t{0});
  if (seqs.back() > last) {
    return Status::NotFound("no entry " + std::to_string(seqs.back()) + ": the journal has " +
                            std::to_string(last) + " entries");
  }
  ProofQuery head;  // a consistency proof from the empty tree, for the checkpoint
  json head_proof;
  s = GetCheckedProof(ch, head, &head_proof);
  if (s.IsNotFound() || (s.ok() && !head_proof.contains("checkpoint"))) {
    return Status::NotFound(
        "the journal has no checkpoint yet, so no entry can be proven: a bundle needs the "
        "daemon's signed checkpoints (mailjournald(8), CHECKPOINTS)");
  }
  if (!s.ok()) return s;
  head.checkpoint = head_proof["checkpoint"].get<std::string>();
  std::string text;
  s = NoteText(head.checkpoint, &text);
  if (s.ok()) s = ParseCheckpoint(text, &facts.checkpoint);
  if (!s.ok()) return Status::Corruption("the journal's newest checkpoint: " + s.message());
  head.size = facts.checkpoint.size;
  if (verifier != nullptr) {
    s = verifier->Verify(head.checkpoint, &text);
    if (!s.ok()) {
      return Status::Corruption("the journal's newest checkpoint does not verify with " +
                                o.verifier_key_file + ": " + s.message());
    }
  }
  if (!NoteSignature(head.checkpoint, verifier ? verifier->name() : "", &facts.key_name,
                     &facts.key_id)) {
    return Status::Corruption("the journal's newest checkpoint has no signature");
  }
  if (seqs.back() > head.size) {
    return Status::Busy("entry " + std::to_string(seqs.back()) +
                        " is newer than the journal's newest checkpoint, of its first " +
                        std::to_string(head.size) +
                        " entries, so it cannot be proven yet: export the bundle again after "
                        "the next checkpoint");
  }

  *summary = BundleSummary();
  summary->tree_size = head.size;
  std::vector<Listed> listed;
  for (uint64_t seq : seqs) {
    Evidence ev;
    s = Collect(ch, seq, opener, head, &ev);
    if (s.ok()) s = WriteEvidence(&files, ev, head.checkpoint);
    if (!s.ok()) return Concerning(seq, s);
    Listed m;
    m.seq = seq;
    m.entry = ev.entry;
    m.disposal = ev.disposal;
    m.captured_known = ev.captured_known;
    if (ev.captured_known) m.captured_sha256 = HexOf(Sha256::Of(ev.captured));
    m.not_opened = ev.not_opened;
    m.entry_bytes = HexDecode(ev.proof["entry"].get<std::string>());
    for (const json& p : ev.proof["path"]) {
      std::string bytes = HexDecode(p.get<std::string>());
      Sha256Digest d{};
      if (bytes.size() == d.size()) std::copy(bytes.begin(), bytes.end(), d.begin());
      m.path.push_back(d);
    }
    listed.push_back(std::move(m));
    ++summary->messages;
    if (ev.captured_known) ++summary->opened;
    if (ev.disposal != 0) ++summary->disposed;
    if (!ev.not_opened.empty()) {
      summary->warnings.push_back("message " + std::to_string(seq) +
                                  " written sealed only: " + ev.not_opened);
    }
  }
  if (!facts.verifier_key.empty()) s = files.Write(kVerifierKeyFile, facts.verifier_key + "\n");
  facts.made_at = FormatTimeUtc(NowMicros());
  facts.made_by = MadeBy();
  if (s.ok()) s = files.Write("README.txt", Readme(facts, listed));
  if (s.ok()) s = files.Sync();
  if (s.ok()) files.Keep();
  return s;
}

int CmdExportBundle(Channel* channel, const std::vector<uint64_t>& seqs,
                    const BundleOptions& options) {
  Status s = CheckBundleDir(options.dir);
  if (!s.ok()) return FailWith(EX_CANTCREAT, s);
  BundleSummary summary;
  s = WriteBundle(channel, seqs, options, &summary);
  if (!s.ok()) {
    return Fail(Status::FromCode(
        s.code(), s.message() + " (no bundle written; " + options.dir + " is left as it was)"));
  }
  for (const std::string& w : summary.warnings)
    std::fprintf(stderr, "mailjournal: %s\n", w.c_str());
  std::printf(
      "bundle %s: %zu messages (%zu opened, %zu disposed of), proven against the "
      "checkpoint of %llu entries\n",
      options.dir.c_str(), summary.messages, summary.opened, summary.disposed,
      static_cast<unsigned long long>(summary.tree_size));
  std::fflush(stdout);
  return EX_OK;
}

}  // namespace mailjournal

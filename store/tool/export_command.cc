// export (mailjournal(8)): messages as eml or mbox, from the journal or from a bucket's
// segments (both through a Channel), or the evidence bundle.
#include <sys/stat.h>
#include <sysexits.h>

#include <filesystem>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "mailjournal/time_util.h"
#include "output.h"

namespace mailjournal {

using nlohmann::json;

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int WriteExport(const std::vector<ExportItem>& items, const ExportOptions& o) {
  if (items.empty()) return Fail(Status::InvalidArgument("export: no messages given"));
  if (o.sealed && o.format != "eml") {
    return Fail(Status::InvalidArgument("--sealed writes the stored form: use --format eml"));
  }
  Opener opener;
  Status s = opener.Load(o.keys.files, o.keys.passphrase_file);
  if (!s.ok()) return Fail(s);
  FetchForm form = o.sealed ? FetchForm::kStored : FetchForm::kCaptured;
  bool per_file = o.format == "eml" && items.size() > 1;
  if (per_file && !IsDirectory(o.out_path)) {
    return Fail(Status::InvalidArgument(
        "exporting several messages as eml needs -o DIR (an existing directory)"));
  }
  if (!per_file && IsDirectory(o.out_path)) {
    return Fail(Status::InvalidArgument(o.out_path + ": is a directory; give a file name"));
  }
  auto no_header = [](const json&) { return Status::OK(); };
  if (per_file) {
    for (const ExportItem& item : items) {
      std::filesystem::path path = std::filesystem::path(o.out_path) / (item.stem + ".eml");
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      Output out;
      s = out.Open(path.string());
      if (!s.ok()) return FailWith(EX_CANTCREAT, s);
      s = FetchMessage(item.channel, item.seq, FetchPurpose::kExport, form, opener, no_header,
                       [&](std::string_view b) { return out.Write(b); });
      if (s.ok()) s = out.Commit();
      if (!s.ok()) return Fail(s);
    }
    return EX_OK;
  }
  Output out;
  s = out.Open(o.out_path);
  if (!s.ok()) return FailWith(EX_CANTCREAT, s);
  if (o.format == "eml") {
    s = FetchMessage(items[0].channel, items[0].seq, FetchPurpose::kExport, form, opener, no_header,
                     [&](std::string_view b) { return out.Write(b); });
  } else {
    MboxrdWriter mbox(&out);
    for (const ExportItem& item : items) {
      // The "From " line needs the sender and time before the first payload byte.
      auto begin = [&](const json& entry) {
        int64_t time_us = 0;
        Status st = ParseTime(entry["time"].get<std::string>(), &time_us);
        return st.ok() ? mbox.Begin(entry["mail_from"].get<std::string>(), time_us) : st;
      };
      s = FetchMessage(item.channel, item.seq, FetchPurpose::kExport, form, opener, begin,
                       [&](std::string_view b) { return mbox.Write(b); });
      if (s.ok()) s = mbox.End();
      if (!s.ok()) break;
    }
  }
  if (s.ok()) s = out.Commit();
  return s.ok() ? EX_OK : Fail(s);
}

int CmdExport(Channel* ch, const std::vector<std::string>& ranges, const ExportOptions& o) {
  std::vector<uint64_t> seqs;
  for (const auto& r : ranges) {
    Status s = ParseSeqRange(r, &seqs);
    if (!s.ok()) return Fail(s);
  }
  if (!o.bundle.dir.empty()) {
    BundleOptions bundle = o.bundle;
    bundle.key_files = o.keys.files;
    bundle.passphrase_file = o.keys.passphrase_file;
    return CmdExportBundle(ch, seqs, bundle);
  }
  std::vector<ExportItem> items;
  for (uint64_t seq : seqs) items.push_back({ch, seq, std::to_string(seq)});
  return WriteExport(items, o);
}

}  // namespace mailjournal

// mailjournal segment list | write | verify (mailjournal(8), SEGMENTS).
#include <sys/stat.h>
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "mailjournal/checkpoint.h"
#include "mailjournal/segment.h"
#include "mailjournal/time_util.h"
#include "output.h"

namespace mailjournal {

using nlohmann::json;

namespace {

json ListRequest(uint64_t entries, uint64_t seconds, uint64_t bytes) {
  json req = Request("segment_list");
  req["entries"] = entries;
  req["seconds"] = seconds;
  req["bytes"] = bytes;
  return req;
}

// Fetches segment first..last ("segment") into *bytes.
Status FetchSegment(Channel* channel, uint64_t first, uint64_t last, std::string* bytes) {
  json req = Request("segment");
  req["first"] = first;
  req["last"] = last;
  json resp;
  bytes->clear();
  return channel->Call(req, &resp, [bytes](std::string_view b) {
    bytes->append(b);
    return Status::OK();
  });
}

// Writes `bytes` to a new file at `path` (never over an existing one).
Status WriteNewFile(const std::string& path, const std::string& bytes) {
  Output out;
  Status s = out.Open(path);
  if (s.ok()) s = out.Write(bytes);
  if (s.ok()) s = out.Commit();
  return s;
}

std::string FileName(uint64_t first, uint64_t last) {
  return std::filesystem::path(SegmentObjectName("", first, last)).filename().string();
}

int CmdSegmentList(Channel* channel, const json& list_request, const std::string& format) {
  json resp;
  Status s = channel->Call(list_request, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  for (const json& r : resp["segments"]) {
    if (format == "json") {
      PrintJson(r);
    } else {
      std::printf("%llu-%llu  %s .. %s  checkpoint %llu  %s\n",
                  static_cast<unsigned long long>(r["first"].get<uint64_t>()),
                  static_cast<unsigned long long>(r["last"].get<uint64_t>()),
                  r["first_time"].get<std::string>().c_str(),
                  r["last_time"].get<std::string>().c_str(),
                  static_cast<unsigned long long>(r["checkpoint_seq"].get<uint64_t>()),
                  r["name"].get<std::string>().c_str());
    }
  }
  return EX_OK;
}

int CmdSegmentWrite(Channel* channel, const std::string& range, bool all, const json& list_request,
                    const std::string& output) {
  if (!all) {
    std::pair<uint64_t, uint64_t> r;
    Status s = ParseSeqRange(range, &r);
    std::string bytes;
    if (s.ok()) s = FetchSegment(channel, r.first, r.second, &bytes);
    if (!s.ok()) return Fail(s);
    s = WriteNewFile(output, bytes);
    if (!s.ok()) return FailWith(EX_CANTCREAT, s);
    std::printf("wrote %s: entries %llu-%llu, %zu bytes\n", output.c_str(),
                static_cast<unsigned long long>(r.first), static_cast<unsigned long long>(r.second),
                bytes.size());
    return EX_OK;
  }
  struct stat st;
  if (stat(output.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailWith(EX_CANTCREAT, Status::IOError(output + ": not a directory"));
  }
  json resp;
  Status s = channel->Call(list_request, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  size_t written = 0, present = 0;
  for (const json& r : resp["segments"]) {
    uint64_t first = r["first"].get<uint64_t>(), last = r["last"].get<uint64_t>();
    std::string path = output + "/" + FileName(first, last);
    if (stat(path.c_str(), &st) == 0) {
      ++present;  // written by an earlier run: files appear only complete
      continue;
    }
    std::string bytes;
    s = FetchSegment(channel, first, last, &bytes);
    if (!s.ok()) return Fail(s);
    s = WriteNewFile(path, bytes);
    if (!s.ok()) return FailWith(EX_CANTCREAT, s);
    ++written;
  }
  std::printf("%zu segments written, %zu already present in %s\n", written, present,
              output.c_str());
  return EX_OK;
}

int CmdSegmentVerify(const std::vector<std::string>& files, const std::string& key_file,
                     const std::string& format) {
  std::string key_text;
  Status s = ReadWholeFile(key_file, &key_text);
  std::unique_ptr<NoteVerifier> verifier;
  if (s.ok()) s = NoteVerifier::Create(key_text, &verifier);
  if (!s.ok()) return Fail(s);
  bool all_ok = true;
  for (const std::string& file : files) {
    std::string bytes;
    s = ReadWholeFile(file, &bytes);
    if (!s.ok()) return Fail(s);
    VerifiedSegment seg;
    s = VerifySegment(bytes, *verifier, &seg);
    all_ok = all_ok && s.ok();
    if (format == "json") {
      json j = {{"file", file}, {"ok", s.ok()}};
      if (s.ok()) {
        j["first"] = seg.first;
        j["last"] = seg.last;
        j["messages"] = seg.messages;
        j["without_content"] = seg.without_content;
        j["indexed"] = seg.terms.size();  // messages with term sets (terms.bin)
        j["tree_size"] = seg.checkpoint.size;
        j["origin"] = seg.checkpoint.origin;
      } else {
        j["problem"] = s.message();
      }
      PrintJson(j);
    } else if (s.ok()) {
      std::printf(
          "%s: ok: entries %llu-%llu of %s, %zu messages (%zu without content), checkpoint of "
          "%llu entries\n",
          file.c_str(), static_cast<unsigned long long>(seg.first),
          static_cast<unsigned long long>(seg.last), seg.checkpoint.origin.c_str(), seg.messages,
          seg.without_content, static_cast<unsigned long long>(seg.checkpoint.size));
    } else {
      std::printf("%s: FAILED: %s\n", file.c_str(), s.message().c_str());
    }
  }
  return all_ok ? EX_OK : EX_DATAERR;
}

}  // namespace

void SegmentCommands::AddTo(CLI::App* app) {
  auto* segment = app->add_subcommand("segment", "cut the journal into verifiable segments");
  segment->require_subcommand(1);
  auto formats = CLI::IsMember({"text", "json"});
  auto add_cut = [this](CLI::App* c) {
    c->add_option("--entries", entries_, "at most this many entries per segment (10000)")
        ->check(CLI::PositiveNumber);
    c->add_option("--seconds", seconds_, "at most this many seconds of entries (3600)")
        ->check(CLI::PositiveNumber);
    c->add_option("--bytes", bytes_, "at most this many bytes of stored message content (67108864)")
        ->check(CLI::PositiveNumber);
  };
  list_ = segment->add_subcommand("list", "the segments that can be written now");
  add_cut(list_);
  list_->add_option("--format", format_, "text or json")->check(formats);
  write_ = segment->add_subcommand("write", "write segments to files");
  auto* range = write_->add_option("--range", range_, "the entries FIRST-LAST");
  auto* all = write_->add_flag("--all", all_, "every segment of list, into the directory -o");
  range->excludes(all);
  write_->add_option("-o,--output", output_, "the file (--range) or directory (--all)")->required();
  add_cut(write_);
  verify_ = segment->add_subcommand("verify", "check segment files (needs no journal)");
  verify_->add_option("file", files_, "segment files")->required();
  verify_
      ->add_option("--vkey,--verifier-key", verifier_key_file_,
                   "the checkpoint verifier key file (checkpoint.vkey)")
      ->required();
  verify_->add_option("--format", format_, "text or json")->check(formats);
}

bool SegmentCommands::Selected() const {
  return (list_ && *list_) || (write_ && *write_) || (verify_ && *verify_);
}

bool SegmentCommands::Offline() const { return verify_ && *verify_; }

int SegmentCommands::RunOffline() const {
  return CmdSegmentVerify(files_, verifier_key_file_, format_);
}

int SegmentCommands::Run(Channel* channel) const {
  json list_request = ListRequest(entries_, seconds_, bytes_);
  if (*list_) return CmdSegmentList(channel, list_request, format_);
  if (range_.empty() && !all_) {
    return Fail(Status::InvalidArgument("segment write: give --range FIRST-LAST or --all"));
  }
  return CmdSegmentWrite(channel, range_, all_, list_request, output_);
}

}  // namespace mailjournal

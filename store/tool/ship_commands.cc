// mailjournal ship create-bucket (mailjournal(8), SHIPPING TO S3).
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "mailjournal/s3_client.h"

namespace mailjournal {

void ShipCommands::AddTo(CLI::App* app) {
  CLI::App* ship = app->add_subcommand("ship", "shipping sealed segments to S3 (mailjournald(8))");
  ship->require_subcommand(1);
  create_bucket_ = ship->add_subcommand(
      "create-bucket", "create the configured S3 bucket with Object Lock (once per site)");
  create_bucket_->add_option("-c,--config", config_file_,
                             "mailjournald's configuration file (default: the daemon's)");
}

bool ShipCommands::Selected() const {
  return create_bucket_ != nullptr && create_bucket_->parsed();
}

int ShipCommands::Run() const {
  DaemonConfig config;
  std::vector<std::string> errors;
  ReadDaemonConfig(config_file_, &config, &errors);
  for (const std::string& e : errors) std::fprintf(stderr, "mailjournal: %s\n", e.c_str());
  if (!errors.empty()) return EX_CONFIG;
  if (!ShippingConfigured(config)) {
    return FailWith(EX_CONFIG,
                    Status::InvalidArgument(
                        "ship create-bucket: s3_bucket is not set in " +
                        (config_file_.empty() ? std::string(kDefaultConfigFile) : config_file_)));
  }
  S3Config s3;
  Status s = MakeS3Config(config, &s3);
  if (!s.ok()) return FailWith(EX_CONFIG, s);
  S3Client client(s3);
  s = client.CreateBucket();
  if (!s.ok()) return Fail(s);
  std::printf("bucket %s created with Object Lock at %s\n", s3.bucket.c_str(), s3.endpoint.c_str());
  return EX_OK;
}

}  // namespace mailjournal

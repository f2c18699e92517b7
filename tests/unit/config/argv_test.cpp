// pflag's grammar, case by case as spf13/pflag documents and implements it (istio-iptables'
// flags are pflag flags).
#include "config/argv.h"

#include <catch2/catch.hpp>

using namespace snare;

namespace {

const OptionSpec kOpts[] = {
    {'b', "inbound", false, "LIST", ""},
    {'n', "dry-run", true, "", ""},
    {'v', "verbose", true, "", ""},
    {'\0', "name", false, "X", ""},
};

ArgvResult parse(std::vector<std::string> args) { return parse_argv(kOpts, args); }
std::string value(const ArgvResult& r, size_t i) { return r.values[i].value_or("<unset>"); }

}  // namespace

TEST_CASE("long flags: --name=value, --name value, --name= (empty)") {
  CHECK(value(parse({"--name=x"}), 3) == "x");
  CHECK(value(parse({"--name", "x"}), 3) == "x");
  CHECK(value(parse({"--name="}), 3) == "");
  CHECK(value(parse({"--name", "-x"}), 3) == "-x");  // the next argument, whatever it looks like
  CHECK(value(parse({"--name=a=b"}), 3) == "a=b");
}

TEST_CASE("short flags: -b value, -b=value, -bvalue") {
  CHECK(value(parse({"-b", "80"}), 0) == "80");
  CHECK(value(parse({"-b=80"}), 0) == "80");
  CHECK(value(parse({"-b80,81"}), 0) == "80,81");
  CHECK(value(parse({"-b", ""}), 0) == "");
}

TEST_CASE("booleans take no separate value, attached ones are kept for the caller to parse") {
  auto r = parse({"--dry-run", "-v"});
  CHECK(value(r, 1) == "true");
  CHECK(value(r, 2) == "true");
  CHECK(value(parse({"--dry-run=false"}), 1) == "false");
  CHECK(value(parse({"-n=0"}), 1) == "0");
  auto both = parse({"-nv"});  // booleans share a dash
  CHECK(value(both, 1) == "true");
  CHECK(value(both, 2) == "true");
  CHECK(value(parse({"-nb80"}), 0) == "80");  // a boolean, then a flag with its value attached
  CHECK_FALSE(parse({"--dry-run", "false"}).error.empty());  // "false" is an argument
}

TEST_CASE("the last of a repeated flag wins, -- ends the flags") {
  CHECK(value(parse({"-b", "1", "--inbound", "2"}), 0) == "2");
  CHECK(parse({"--"}).error.empty());
  CHECK_FALSE(parse({"--", "-b"}).error.empty());
}

TEST_CASE("errors name what is wrong") {
  CHECK(parse({"--nope"}).error == "unknown flag: --nope");
  CHECK(parse({"-q"}).error == "unknown shorthand flag: 'q' in -q");
  CHECK(parse({"--name"}).error == "flag needs an argument: --name");
  CHECK(parse({"-b"}).error == "flag needs an argument: -b");
  CHECK(parse({"stray"}).error.rfind("unexpected argument \"stray\"", 0) == 0);
}

TEST_CASE("help and version are understood without being in the table") {
  CHECK(parse({"-h"}).help);
  CHECK(parse({"--help"}).help);
  CHECK(parse({"--version"}).version);
}

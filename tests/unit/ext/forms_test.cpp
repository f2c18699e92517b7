// The forms an extension must have (ext/ext.h's concepts), checked on test-only alternatives that
// are in no variant: a complete target (a goto), the same without one form, a target with an
// empty decoder list (allowed only for header matches), and a header match with and without its
// header decoder. And the entered-chain form of the real targets, which replay, the restore
// text's -N lines and reconcile all use.
#include "ext/forms.h"

#include <catch2/catch.hpp>

namespace snare {

struct TestGoto {
  std::string chain;
};
struct TestNoNft {};
struct TestNoXt {};
struct TestHeaderMatch {};
struct TestHeaderMatchNoReader {};

namespace {
bool decode_nothing(Family, const XtView&, DecodedRule&) { return false; }
}  // namespace

// Every form a target needs, shared by the test targets below.
template <typename T>
struct AllTargetForms {
  static void restore(const T&, std::string&) {}
  static void save(const T&, SaveContext&, std::string&) {}
  static Status encode(const T&, EntryWriter&) { return Status::Ok(); }
  static void nft(const T&, const NftContext&, std::string&) {}
  static void nft_expr(const T&, const NftContext&, Json&) {}
  static void nft_nl(const T&, const NftContext&, std::vector<NlExpr>&) {}
  static const std::string* entered_chain(const T&) { return nullptr; }
  static TargetResult eval(const T&, EvalContext&) { return {}; }
  static bool from_save(Family, std::string_view, std::vector<SaveOpt>&, DecodedRule&) {
    return true;
  }
  static size_t from_nft(Family, NftStmts, DecodedRule&) { return 0; }
  static constexpr std::array<XtDecoder, 1> kXt{{{"", 0, &decode_nothing}}};
};

template <>
struct Ext<TestGoto> : AllTargetForms<TestGoto> {
  static const std::string* entered_chain(const TestGoto& t) { return &t.chain; }
};

template <>
struct Ext<TestNoNft> {
  static void restore(const TestNoNft&, std::string&) {}
  static void save(const TestNoNft&, SaveContext&, std::string&) {}
  static Status encode(const TestNoNft&, EntryWriter&) { return Status::Ok(); }
  static void nft_expr(const TestNoNft&, const NftContext&, Json&) {}
  static void nft_nl(const TestNoNft&, const NftContext&, std::vector<NlExpr>&) {}
  static const std::string* entered_chain(const TestNoNft&) { return nullptr; }
  static constexpr std::array<XtDecoder, 1> kXt{{{"", 0, &decode_nothing}}};
};

struct TestNoEval {};
template <>
struct Ext<TestNoEval> {
  static void restore(const TestNoEval&, std::string&) {}
  static void save(const TestNoEval&, SaveContext&, std::string&) {}
  static Status encode(const TestNoEval&, EntryWriter&) { return Status::Ok(); }
  static void nft(const TestNoEval&, const NftContext&, std::string&) {}
  static void nft_expr(const TestNoEval&, const NftContext&, Json&) {}
  static void nft_nl(const TestNoEval&, const NftContext&, std::vector<NlExpr>&) {}
  static const std::string* entered_chain(const TestNoEval&) { return nullptr; }
  static constexpr std::array<XtDecoder, 1> kXt{{{"", 0, &decode_nothing}}};
};

// Every form but nft_nl (its nf_tables expressions).
struct TestNoNftNl {};
template <>
struct Ext<TestNoNftNl> {
  static void restore(const TestNoNftNl&, std::string&) {}
  static void save(const TestNoNftNl&, SaveContext&, std::string&) {}
  static Status encode(const TestNoNftNl&, EntryWriter&) { return Status::Ok(); }
  static void nft(const TestNoNftNl&, const NftContext&, std::string&) {}
  static void nft_expr(const TestNoNftNl&, const NftContext&, Json&) {}
  static const std::string* entered_chain(const TestNoNftNl&) { return nullptr; }
  static TargetResult eval(const TestNoNftNl&, EvalContext&) { return {}; }
  static bool from_save(Family, std::string_view, std::vector<SaveOpt>&, DecodedRule&) {
    return true;
  }
  static size_t from_nft(Family, NftStmts, DecodedRule&) { return 0; }
  static constexpr std::array<XtDecoder, 1> kXt{{{"", 0, &decode_nothing}}};
};

template <>
struct Ext<TestNoXt> : AllTargetForms<TestNoXt> {
  static constexpr std::array<XtDecoder, 0> kXt{};
};

template <>
struct Ext<TestHeaderMatch> {
  static void restore(const TestHeaderMatch&, std::string&) {}
  static void save(const TestHeaderMatch&, SaveContext&, std::string&) {}
  static Status encode(const TestHeaderMatch&, EntryWriter&) { return Status::Ok(); }
  static void nft(const TestHeaderMatch&, const NftContext&, std::string&) {}
  static void nft_expr(const TestHeaderMatch&, const NftContext&, Json&) {}
  static void nft_nl(const TestHeaderMatch&, const NftContext&, std::vector<NlExpr>&) {}
  static SaveSlot slot(const TestHeaderMatch&) { return SaveSlot::proto; }
  static MatchResult eval(const TestHeaderMatch&, const EvalContext&) { return {}; }
  static bool from_save(Family, std::string_view, std::vector<SaveOpt>&, DecodedRule&) {
    return true;
  }
  static size_t from_nft(Family, NftStmts, DecodedRule&) { return 0; }
  static constexpr std::array<XtDecoder, 0> kXt{};
  static void from_header(Family, const EntryHeader&, DecodedRule&) {}
};

// Every form but from_nft (its nftables statements read back).
struct TestNoNftParse {};
template <>
struct Ext<TestNoNftParse> {
  static void restore(const TestNoNftParse&, std::string&) {}
  static void save(const TestNoNftParse&, SaveContext&, std::string&) {}
  static Status encode(const TestNoNftParse&, EntryWriter&) { return Status::Ok(); }
  static void nft(const TestNoNftParse&, const NftContext&, std::string&) {}
  static void nft_expr(const TestNoNftParse&, const NftContext&, Json&) {}
  static void nft_nl(const TestNoNftParse&, const NftContext&, std::vector<NlExpr>&) {}
  static const std::string* entered_chain(const TestNoNftParse&) { return nullptr; }
  static TargetResult eval(const TestNoNftParse&, EvalContext&) { return {}; }
  static bool from_save(Family, std::string_view, std::vector<SaveOpt>&, DecodedRule&) {
    return true;
  }
  static constexpr std::array<XtDecoder, 1> kXt{{{"", 0, &decode_nothing}}};
};

template <>
struct Ext<TestHeaderMatchNoReader> {
  static void restore(const TestHeaderMatchNoReader&, std::string&) {}
  static void save(const TestHeaderMatchNoReader&, SaveContext&, std::string&) {}
  static Status encode(const TestHeaderMatchNoReader&, EntryWriter&) { return Status::Ok(); }
  static void nft(const TestHeaderMatchNoReader&, const NftContext&, std::string&) {}
  static void nft_expr(const TestHeaderMatchNoReader&, const NftContext&, Json&) {}
  static void nft_nl(const TestHeaderMatchNoReader&, const NftContext&, std::vector<NlExpr>&) {}
  static SaveSlot slot(const TestHeaderMatchNoReader&) { return SaveSlot::proto; }
  static MatchResult eval(const TestHeaderMatchNoReader&, const EvalContext&) { return {}; }
  static constexpr std::array<XtDecoder, 0> kXt{};
};

}  // namespace snare

using namespace snare;

namespace {
struct NoExtension {};
}  // namespace

TEST_CASE("an extension is complete only with every form of its kind") {
  STATIC_REQUIRE(TargetExtension<TestGoto>);
  STATIC_REQUIRE(!TargetExtension<TestNoNft>);
  STATIC_REQUIRE(!HasNftForm<Ext<TestNoNft>, TestNoNft>);
  // `snare trace` needs every target's evaluation form.
  STATIC_REQUIRE(!TargetExtension<TestNoEval>);
  STATIC_REQUIRE(!HasTargetEval<Ext<TestNoEval>, TestNoEval>);
  STATIC_REQUIRE(!TargetExtension<NoExtension>);
  STATIC_REQUIRE(!Specialized<Ext<NoExtension>>);
  // A target always reads back from a kernel extension; only a header match has kXt{}.
  STATIC_REQUIRE(!TargetExtension<TestNoXt>);
  STATIC_REQUIRE(!TargetExtension<TestNoNftParse>);
  STATIC_REQUIRE(!HasNftParse<Ext<TestNoNftParse>, TestNoNftParse>);
  STATIC_REQUIRE(!TargetExtension<TestNoNftNl>);
  STATIC_REQUIRE(!HasNftNl<Ext<TestNoNftNl>, TestNoNftNl>);
  STATIC_REQUIRE(MatchExtension<TestHeaderMatch>);
  STATIC_REQUIRE(!MatchExtension<TestHeaderMatchNoReader>);
  // A target is not a match (no slot) and a match not a target (no entered chain).
  STATIC_REQUIRE(!MatchExtension<TestGoto>);
  STATIC_REQUIRE(!TargetExtension<TestHeaderMatch>);
}

TEST_CASE("a target enters a user chain only when it jumps to one") {
  CHECK(*entered_chain(JumpTarget{"ISTIO_OUTPUT"}) == "ISTIO_OUTPUT");
  CHECK(*entered_chain(JumpTarget{"CUSTOM"}) == "CUSTOM");
  CHECK(entered_chain(JumpTarget{"RETURN"}) == nullptr);
  CHECK(entered_chain(JumpTarget{"ACCEPT"}) == nullptr);
  CHECK(entered_chain(JumpTarget{"OUTPUT"}) == nullptr);
  CHECK(entered_chain(RedirectTarget{"15001"}) == nullptr);
  CHECK(entered_chain(TproxyTarget{"0x539", "15006"}) == nullptr);
  CHECK(entered_chain(MarkTarget{"0x539"}) == nullptr);
  CHECK(entered_chain(ConnmarkTarget{true}) == nullptr);
  CHECK(entered_chain(CtZoneTarget{2}) == nullptr);
}

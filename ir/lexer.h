// Tokens of the `.nyx` text format (see docs/ir.md for the grammar).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"

namespace nyx::ir {

enum class TokenKind {
  Ident,     // bare word: keywords, op names, dtypes, attribute names
  ValueName, // %name (text holds the name without '%', unescaped)
  Symbol,    // @name (text holds the name without '@', unescaped)
  Integer,   // -?[0-9]+
  Float,     // -?[0-9]+ with '.' or an exponent; inf, -inf, nan, -nan
  HexInt,    // 0x[0-9a-fA-F]+ (raw bits of a float element)
  String,    // "..." (text holds the unescaped contents)
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Less,
  Greater,
  Comma,
  Colon,
  Equal,
  Arrow,
  Eof,
};

struct Token {
  TokenKind kind = TokenKind::Eof;
  std::string text;
  Loc loc;
};

// How a token reads in a message: 'func', %x, @f, "str", end of input.
std::string describeToken(const Token &tok);

// Splits `text` into tokens ending with an Eof token. Comments (`//` to the
// end of the line) and whitespace are skipped. A lexical error is returned
// as a diagnostic naming `filename`.
absl::StatusOr<std::vector<Token>> tokenize(std::string_view text,
                                            std::string_view filename);

// Whether `name` can be written after '%' or '@' without quotes.
bool isBareName(std::string_view name);
// `name` as written after '%' or '@': bare, or quoted with escapes.
std::string formatName(std::string_view name);
// A string literal with escapes, quotes included.
std::string quoteString(std::string_view s);

} // namespace nyx::ir

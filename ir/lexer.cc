#include "ir/lexer.h"

#include <cctype>

#include "ir/diagnostic.h"
#include "ir/strings.h"

namespace nyx::ir {

static bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

static bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

// Names after '%' and '@' may also start with a digit and contain '-', so
// `%0`, `@fc1.weight` and `@layer-1` need no quotes.
static bool isNameChar(char c) { return isIdentChar(c) || c == '-'; }

bool isBareName(std::string_view name) {
  if (name.empty())
    return false;
  for (char c : name)
    if (!isNameChar(c))
      return false;
  return true;
}

std::string quoteString(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (u < 0x20 || u == 0x7f) {
        out += "\\x";
        out += kHex[u >> 4];
        out += kHex[u & 15];
      } else {
        out += c;
      }
    }
  }
  out += '"';
  return out;
}

std::string formatName(std::string_view name) {
  return isBareName(name) ? std::string(name) : quoteString(name);
}

std::string describeToken(const Token &tok) {
  switch (tok.kind) {
  case TokenKind::ValueName:
    return "%" + formatName(tok.text);
  case TokenKind::Symbol:
    return "@" + formatName(tok.text);
  case TokenKind::String:
    return quoteString(tok.text);
  case TokenKind::Eof:
    return "end of input";
  default:
    return "'" + tok.text + "'";
  }
}

namespace {

class Lexer {
public:
  Lexer(std::string_view text, std::string_view filename)
      : text_(text), filename_(filename) {}

  absl::StatusOr<std::vector<Token>> run() {
    std::vector<Token> tokens;
    while (true) {
      skipSpaceAndComments();
      Token tok;
      tok.loc = here();
      if (pos_ >= text_.size()) {
        tokens.push_back(std::move(tok));
        return tokens;
      }
      absl::Status s = lexOne(tok);
      if (!s.ok())
        return s;
      tokens.push_back(std::move(tok));
    }
  }

private:
  Loc here() const { return {line_, static_cast<int>(pos_ - lineStart_) + 1}; }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      lineStart_ = pos_ + 1;
    }
    ++pos_;
  }
  absl::Status error(Loc loc, std::string_view msg) const {
    return errorAt(filename_, loc, msg);
  }

  void skipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (c == '/' && peek(1) == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          advance();
      } else {
        return;
      }
    }
  }

  // Whether the word `w` starts at pos_ + offset and is not followed by
  // another identifier character.
  bool wordAt(size_t offset, std::string_view w) const {
    if (text_.substr(pos_ + offset, w.size()) != w)
      return false;
    return !isIdentChar(peek(offset + w.size()));
  }

  absl::Status lexOne(Token &tok) {
    char c = peek();
    auto punct = [&](TokenKind kind, size_t len) {
      tok.kind = kind;
      tok.text = std::string(text_.substr(pos_, len));
      for (size_t i = 0; i < len; ++i)
        advance();
      return absl::OkStatus();
    };
    switch (c) {
    case '(':
      return punct(TokenKind::LParen, 1);
    case ')':
      return punct(TokenKind::RParen, 1);
    case '{':
      return punct(TokenKind::LBrace, 1);
    case '}':
      return punct(TokenKind::RBrace, 1);
    case '[':
      return punct(TokenKind::LBracket, 1);
    case ']':
      return punct(TokenKind::RBracket, 1);
    case '<':
      return punct(TokenKind::Less, 1);
    case '>':
      return punct(TokenKind::Greater, 1);
    case ',':
      return punct(TokenKind::Comma, 1);
    case ':':
      return punct(TokenKind::Colon, 1);
    case '=':
      return punct(TokenKind::Equal, 1);
    case '"':
      tok.kind = TokenKind::String;
      return lexString(tok.text);
    case '%':
      return lexName(tok, TokenKind::ValueName);
    case '@':
      return lexName(tok, TokenKind::Symbol);
    default:
      break;
    }
    if (c == '-' && peek(1) == '>')
      return punct(TokenKind::Arrow, 2);
    if (c == '-' && (wordAt(1, "inf") || wordAt(1, "nan")))
      return punct(TokenKind::Float, 4);
    if (wordAt(0, "inf") || wordAt(0, "nan"))
      return punct(TokenKind::Float, 3);
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && std::isdigit(static_cast<unsigned char>(peek(1)))))
      return lexNumber(tok);
    if (isIdentStart(c)) {
      size_t start = pos_;
      while (isIdentChar(peek()))
        advance();
      tok.kind = TokenKind::Ident;
      tok.text = std::string(text_.substr(start, pos_ - start));
      return absl::OkStatus();
    }
    return error(here(), strCat("unexpected character '", std::string(1, c),
                                "'; expected a name, number, string or "
                                "punctuation"));
  }

  absl::Status lexNumber(Token &tok) {
    size_t start = pos_;
    auto digits = [&] {
      size_t n = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        advance();
        ++n;
      }
      return n;
    };
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      advance();
      advance();
      size_t n = 0;
      while (std::isxdigit(static_cast<unsigned char>(peek()))) {
        advance();
        ++n;
      }
      if (n == 0)
        return error(tok.loc, "expected hexadecimal digits after '0x'");
      tok.kind = TokenKind::HexInt;
    } else {
      if (peek() == '-')
        advance();
      digits();
      tok.kind = TokenKind::Integer;
      if (peek() == '.') {
        advance();
        digits();
        tok.kind = TokenKind::Float;
      }
      if (peek() == 'e' || peek() == 'E') {
        advance();
        if (peek() == '+' || peek() == '-')
          advance();
        if (digits() == 0)
          return error(tok.loc, "expected digits in the exponent of a number");
        tok.kind = TokenKind::Float;
      }
    }
    if (isNameChar(peek()))
      return error(here(),
                   strCat("unexpected character '", std::string(1, peek()),
                          "' after a number; expected a separator"));
    tok.text = std::string(text_.substr(start, pos_ - start));
    return absl::OkStatus();
  }

  // A string literal starting at the opening quote.
  absl::Status lexString(std::string &out) {
    Loc start = here();
    advance();
    while (true) {
      if (pos_ >= text_.size() || peek() == '\n')
        return error(start, "unterminated string; expected a closing '\"'");
      char c = peek();
      advance();
      if (c == '"')
        return absl::OkStatus();
      if (c != '\\') {
        out += c;
        continue;
      }
      Loc escLoc = {line_, static_cast<int>(pos_ - lineStart_)};
      char e = peek();
      if (pos_ < text_.size())
        advance();
      switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'x': {
        int v = 0;
        for (int i = 0; i < 2; ++i) {
          char h = peek();
          if (!std::isxdigit(static_cast<unsigned char>(h)))
            return error(escLoc, "expected two hexadecimal digits after '\\x'");
          v = v * 16 + (std::isdigit(static_cast<unsigned char>(h))
                            ? h - '0'
                            : std::tolower(h) - 'a' + 10);
          advance();
        }
        out += static_cast<char>(v);
        break;
      }
      default:
        return error(escLoc, strCat("unknown escape '\\", std::string(1, e),
                                    "'; expected one of \\\" \\\\ \\n \\t "
                                    "\\r \\xHH"));
      }
    }
  }

  absl::Status lexName(Token &tok, TokenKind kind) {
    char sigil = peek();
    advance();
    tok.kind = kind;
    if (peek() == '"')
      return lexString(tok.text);
    size_t start = pos_;
    while (isNameChar(peek()))
      advance();
    if (pos_ == start)
      return error(tok.loc,
                   strCat("expected a name after '", std::string(1, sigil),
                          "' (letters, digits, '_', '.', '-' or a "
                          "quoted string)"));
    tok.text = std::string(text_.substr(start, pos_ - start));
    return absl::OkStatus();
  }

  std::string_view text_;
  std::string_view filename_;
  size_t pos_ = 0;
  size_t lineStart_ = 0;
  int line_ = 1;
};

} // namespace

absl::StatusOr<std::vector<Token>> tokenize(std::string_view text,
                                            std::string_view filename) {
  return Lexer(text, filename).run();
}

} // namespace nyx::ir

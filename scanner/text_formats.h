// Recognisers for what model folders and Python installations hold besides
// weights: JSON (config.json, tokenizer.json, *.index.json), plain text
// (README.md, merges.txt, vocab.txt), SentencePiece models
// (tokenizer.model, spiece.model) and Python site .pth files.
//
// They only say "these bytes are this data format". They never make a file
// safe on their own: the scanner still walks every file as a pickle from
// byte 0 (and as joblib reads it), and what that walk finds decides over
// them. Every recogniser is linear in the input and allocates nothing that
// grows with it (a depth stack bounded by the limits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_reader.h"

namespace ltrack::scanner {

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(bytes data);

// A JSON document as Python's json module reads it (RFC 8259 plus NaN,
// Infinity and -Infinity, which json.loads accepts): strict UTF-8 without a
// BOM, an object or array at the top, nesting at most max_depth.
bool is_json(bytes data, uint32_t max_depth, std::string &detail);

// Text a person or a tokenizer writes: non-empty strict UTF-8 with no NUL
// and no C0 control character other than tab, newline, CR, form feed and
// vertical tab.
bool is_text(bytes data);

// A SentencePiece ModelProto (sentencepiece_model.proto): only fields 1-5,
// at least one piece, every piece a well-formed SentencePiece message
// (piece: UTF-8 string, score: float, type: 1-6), the specs well-formed
// protobuf.
bool is_sentencepiece(bytes data, std::string &detail);

// A site .pth file read as CPython's site.addpackage reads it: "#" lines
// and blank lines skipped; a line starting "import " or "import\t" is
// passed to exec() at every interpreter start; any other line is a
// directory for sys.path. The lines are those of every reading a CPython
// applies: 3.11/3.12 decode with the locale's codec and split on universal
// newlines (\r, \n, \r\n), 3.13 decodes with utf-8-sig (a BOM dropped),
// falls back to the locale's codec (latin-1: any bytes) and splits with
// str.splitlines() (also \v, \f, \x1c-\x1e, U+0085, U+2028, U+2029). So
// the bytes are read raw, whatever their encoding or format: an import
// line starts at byte 0, after a leading BOM, or after any of those line
// breaks (the byte 0x85 alone counts), and runs to the next \r or \n (the
// longest reading). Returns the code lines, numbered from 1 by the union of
// the breaks; at most 64 kept (a non-plain one kept in preference).
struct pth_line {
	uint64_t number;
	std::string text; // at most 200 bytes of it
	// Only "import a.b [as c][, d ...]" and a comment: names a module
	// and carries no code of its own (a model card's "import torch").
	bool plain = false;
};
std::vector<pth_line> pth_import_lines(bytes data);

// The same, for a text .pth: also counts the path lines (every line of
// the union split that is neither blank, a comment, nor an import line).
std::vector<pth_line> pth_code_lines(bytes text, uint64_t &path_lines);

} // namespace ltrack::scanner

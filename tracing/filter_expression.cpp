#include "filter_expression.h"

#include "abi_names.h"
#include "filter.h"

#include <vector>

namespace ltrack::tracing {

namespace {

constexpr size_t max_depth = 64;
// action=NAME takes an action or an outcome: an outcome's value has this bit.
constexpr uint64_t outcome_bit = 1u << 8;

enum class field { action, container, dip, dport, hook, keyword, outcome, path, pid, profile, severity, uid };
enum class op { eq, ne, lt, le, gt, ge };

struct field_spec {
	const char *name;
	field f;
	bool ordered; // supports < <= > >=
};
constexpr field_spec fields[] = {
	{"action", field::action, false},   {"container", field::container, false}, {"dip", field::dip, false},
	{"dport", field::dport, true},      {"hook", field::hook, false},           {"keyword", field::keyword, false},
	{"outcome", field::outcome, false}, {"path", field::path, false},           {"pid", field::pid, true},
	{"profile", field::profile, false}, {"severity", field::severity, true},    {"uid", field::uid, true},
};

const char *op_text(op o)
{
	switch (o) {
	case op::eq: return "=";
	case op::ne: return "!=";
	case op::lt: return "<";
	case op::le: return "<=";
	case op::gt: return ">";
	case op::ge: return ">=";
	}
	return "?";
}

} // namespace

class filter_expression {
public:
	enum class kind { all_of, any_of, negate, compare } k = kind::compare;
	std::vector<std::unique_ptr<filter_expression>> children;
	field f = field::pid;
	op o = op::eq;
	std::string text;
	uint64_t number = 0;
	ip_prefix prefix;
	severity level = severity::info;
};

const char *filter_fields()
{
	return "action, container, dip, dport, hook, keyword, outcome, path, pid, profile, severity, uid";
}

namespace {

enum class tok { word, string, op, and_, or_, not_, lparen, rparen, end, bad };

struct token {
	tok t = tok::end;
	std::string text; // word/string value (unescaped), operator, or the bad char
	size_t column = 0;
	op o = op::eq;
};

std::string describe(const token &t)
{
	switch (t.t) {
	case tok::word: return "\"" + t.text + "\"";
	case tok::string: return "string \"" + t.text + "\"";
	case tok::op: return "'" + std::string(op_text(t.o)) + "'";
	case tok::and_: return "'&&'";
	case tok::or_: return t.text == ";" ? "';'" : "'||'";
	case tok::not_: return "'!'";
	case tok::lparen: return "'('";
	case tok::rparen: return "')'";
	case tok::end: return "end of expression";
	case tok::bad: return "'" + t.text + "'";
	}
	return "?";
}

struct parse_error {
	size_t column;
	std::string message;
};

class parser {
public:
	explicit parser(std::string_view s) : s_(s) { next(); }

	std::unique_ptr<filter_expression> parse()
	{
		auto e = or_expr(0);
		if (e && cur_.t != tok::end)
			fail(cur_.column, "expected '&&', '||', ';' or end of expression, found " + describe(cur_));
		return err_ ? nullptr : std::move(e);
	}
	const std::optional<parse_error> &error() const { return err_; }

private:
	// ---- tokens ----
	static bool word_char(char c)
	{
		switch (c) {
		case ' ':
		case '\t':
		case '\n':
		case '\r':
		case '\f':
		case '\v':
		case '(':
		case ')':
		case '!':
		case '&':
		case '|':
		case ';':
		case '=':
		case '<':
		case '>':
		case '"': return false;
		}
		return true;
	}

	void next()
	{
		while (pos_ < s_.size() && std::string_view(" \t\n\r\f\v").find(s_[pos_]) != std::string_view::npos)
			++pos_;
		cur_ = token{};
		cur_.column = pos_ + 1;
		if (pos_ >= s_.size()) {
			cur_.t = tok::end;
			return;
		}
		char c = s_[pos_];
		auto two = [&](char d) { return pos_ + 1 < s_.size() && s_[pos_ + 1] == d; };
		auto take = [&](tok t, size_t n) {
			cur_.t = t;
			cur_.text = std::string(s_.substr(pos_, n));
			pos_ += n;
		};
		auto take_op = [&](op o, size_t n) {
			take(tok::op, n);
			cur_.o = o;
		};
		switch (c) {
		case '(': return take(tok::lparen, 1);
		case ')': return take(tok::rparen, 1);
		case ';': return take(tok::or_, 1);
		case '&': return two('&') ? take(tok::and_, 2) : take(tok::bad, 1);
		case '|': return two('|') ? take(tok::or_, 2) : take(tok::bad, 1);
		case '!': return two('=') ? take_op(op::ne, 2) : take(tok::not_, 1);
		case '=': return two('=') ? take_op(op::eq, 2) : take_op(op::eq, 1);
		case '<': return two('=') ? take_op(op::le, 2) : take_op(op::lt, 1);
		case '>': return two('=') ? take_op(op::ge, 2) : take_op(op::gt, 1);
		case '"': return quoted();
		}
		size_t start = pos_;
		while (pos_ < s_.size() && word_char(s_[pos_]))
			++pos_;
		cur_.t = tok::word;
		cur_.text = std::string(s_.substr(start, pos_ - start));
	}

	void quoted()
	{
		size_t start = pos_++;
		std::string v;
		while (pos_ < s_.size() && s_[pos_] != '"') {
			if (s_[pos_] == '\\' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '"' || s_[pos_ + 1] == '\\'))
				++pos_;
			v += s_[pos_++];
		}
		if (pos_ >= s_.size()) {
			fail(start + 1, "unterminated string; close it with '\"'");
			cur_.t = tok::end;
			return;
		}
		++pos_;
		cur_.t = tok::string;
		cur_.text = std::move(v);
	}

	// ---- grammar ----
	void fail(size_t column, std::string message)
	{
		if (!err_)
			err_ = parse_error{column, "column " + std::to_string(column) + ": " + std::move(message)};
	}

	std::unique_ptr<filter_expression> join(filter_expression::kind k, std::unique_ptr<filter_expression> first,
						tok sep, size_t depth)
	{
		if (cur_.t != sep || err_)
			return first;
		auto all = std::make_unique<filter_expression>();
		all->k = k;
		all->children.push_back(std::move(first));
		while (cur_.t == sep && !err_) {
			next();
			auto rhs = k == filter_expression::kind::any_of ? and_expr(depth) : unary(depth);
			if (!rhs)
				return nullptr;
			all->children.push_back(std::move(rhs));
		}
		return all;
	}

	std::unique_ptr<filter_expression> or_expr(size_t depth)
	{
		auto lhs = and_expr(depth);
		if (!lhs)
			return nullptr;
		return join(filter_expression::kind::any_of, std::move(lhs), tok::or_, depth);
	}

	std::unique_ptr<filter_expression> and_expr(size_t depth)
	{
		auto lhs = unary(depth);
		if (!lhs)
			return nullptr;
		return join(filter_expression::kind::all_of, std::move(lhs), tok::and_, depth);
	}

	std::unique_ptr<filter_expression> unary(size_t depth)
	{
		if (err_)
			return nullptr;
		if (depth >= max_depth) {
			fail(cur_.column, "expression nested deeper than " + std::to_string(max_depth) + " levels");
			return nullptr;
		}
		if (cur_.t == tok::not_) {
			next();
			auto inner = unary(depth + 1);
			if (!inner)
				return nullptr;
			auto n = std::make_unique<filter_expression>();
			n->k = filter_expression::kind::negate;
			n->children.push_back(std::move(inner));
			return n;
		}
		if (cur_.t == tok::lparen) {
			size_t open = cur_.column;
			next();
			auto inner = or_expr(depth + 1);
			if (!inner)
				return nullptr;
			if (cur_.t != tok::rparen) {
				fail(cur_.column, "expected ')' to close the '(' at column " + std::to_string(open) +
							  ", found " + describe(cur_));
				return nullptr;
			}
			next();
			return inner;
		}
		return comparison();
	}

	std::unique_ptr<filter_expression> comparison()
	{
		if (cur_.t != tok::word) {
			fail(cur_.column, "expected a field name, '!' or '(', found " + describe(cur_));
			return nullptr;
		}
		token name = cur_;
		const field_spec *spec = nullptr;
		for (const field_spec &f : fields)
			if (name.text == f.name)
				spec = &f;
		if (!spec) {
			if (name.text == "sport")
				fail(name.column, "field \"sport\" is not recorded: connect decisions carry only the "
						  "destination; known fields: " +
							  std::string(filter_fields()));
			else
				fail(name.column,
				     "unknown field \"" + name.text + "\"; known fields: " + filter_fields());
			return nullptr;
		}
		next();
		if (cur_.t != tok::op) {
			fail(cur_.column, "expected a comparison (=, !=, <, <=, >, >=) after \"" + name.text +
						  "\", found " + describe(cur_));
			return nullptr;
		}
		token oper = cur_;
		if (!spec->ordered && oper.o != op::eq && oper.o != op::ne) {
			fail(oper.column, std::string(spec->name) + " supports only = and !=, found " + describe(oper));
			return nullptr;
		}
		next();
		if (cur_.t != tok::word && cur_.t != tok::string) {
			fail(cur_.column, "expected a value after " + describe(oper) + ", found " + describe(cur_));
			return nullptr;
		}
		token value = cur_;
		auto e = std::make_unique<filter_expression>();
		e->f = spec->f;
		e->o = oper.o;
		e->text = value.text;
		if (!check_value(*e, *spec, value))
			return nullptr;
		next();
		return e;
	}

	bool check_value(filter_expression &e, const field_spec &spec, const token &value)
	{
		auto bad = [&](const std::string &want) {
			fail(value.column, std::string(spec.name) + " wants " + want + ", found " + describe(value));
			return false;
		};
		auto number = [&](uint64_t max) {
			const std::string &t = value.text;
			if (t.empty() || t.size() > 10 || t.find_first_not_of("0123456789") != std::string::npos)
				return false;
			e.number = std::stoull(t);
			return e.number <= max;
		};
		// A name of E from first to last; its value is kept in e.number.
		auto named = [&]<typename E>(E first, E last) {
			std::optional<E> v = abi::value_of<E>(value.text);
			if (!v || *v < first || *v > last)
				return false;
			e.number = *v;
			return true;
		};
		switch (spec.f) {
		case field::dport: return number(65535) || bad("a port number 0-65535");
		case field::pid:
		case field::uid: return number(UINT32_MAX) || bad("a number");
		case field::dip: {
			result<ip_prefix> p = parse_prefix(value.text);
			if (!p)
				return bad("an address or CIDR (" + p.failure().error + ")");
			e.prefix = *p;
			return true;
		}
		case field::severity: {
			std::optional<severity> s = parse_severity(value.text);
			if (!s)
				return bad("info, warn or critical");
			e.level = *s;
			return true;
		}
		case field::hook:
			return named(LTRACK_HOOK_FILE, LTRACK_HOOK_PYTHON) ||
			       bad(abi::names_list(LTRACK_HOOK_FILE, LTRACK_HOOK_PYTHON));
		case field::outcome:
			return named(LTRACK_OUT_ALLOWED, LTRACK_OUT_KILLED) ||
			       bad(abi::names_list(LTRACK_OUT_ALLOWED, LTRACK_OUT_KILLED));
		case field::action:
			// An action's value is kept as is, an outcome's with outcome_bit.
			if (named(LTRACK_ACT_ALLOW, LTRACK_ACT_KILL))
				return true;
			if (named(LTRACK_OUT_ALLOWED, LTRACK_OUT_KILLED)) {
				e.number |= outcome_bit;
				return true;
			}
			return bad("an action (" + abi::names_list(LTRACK_ACT_ALLOW, LTRACK_ACT_KILL, ", ") +
				   ") or an outcome (" + abi::names_list(LTRACK_OUT_ALLOWED, LTRACK_OUT_KILLED, ", ") +
				   ")");
		case field::path:
		case field::keyword:
		case field::profile: return !value.text.empty() || bad("a non-empty value");
		case field::container: return true; // "" = any container
		}
		return true;
	}

	std::string_view s_;
	size_t pos_ = 0;
	token cur_;
	std::optional<parse_error> err_;
};

bool compare_numbers(op o, uint64_t have, uint64_t want)
{
	switch (o) {
	case op::eq: return have == want;
	case op::ne: return have != want;
	case op::lt: return have < want;
	case op::le: return have <= want;
	case op::gt: return have > want;
	case op::ge: return have >= want;
	}
	return false;
}

bool is_ip(const decision_record &r)
{
	return r.hook == LTRACK_HOOK_NET && r.family != "unix";
}

// `=` on a text field is a match; `!=` its negation, including on records
// that have no such field (a file decision has no destination).
bool compare(const filter_expression &e, const decision_record &r)
{
	bool eq;
	switch (e.f) {
	case field::dport:
		if (!is_ip(r))
			return e.o == op::ne;
		return compare_numbers(e.o, r.port, e.number);
	case field::pid: return compare_numbers(e.o, r.pid, e.number);
	case field::uid: return compare_numbers(e.o, r.uid, e.number);
	case field::severity:
		// severity=warn means "at least warn" (and != its negation).
		if (e.o == op::eq)
			return r.level >= e.level;
		if (e.o == op::ne)
			return r.level < e.level;
		return compare_numbers(e.o, static_cast<uint64_t>(r.level), static_cast<uint64_t>(e.level));
	case field::dip: eq = is_ip(r) && prefix_contains(e.prefix, r.addr); break;
	case field::path: eq = !abi::is_net(r.hook) && path_has_prefix(r.path, e.text); break;
	case field::keyword: eq = keyword_matches(r, e.text); break;
	case field::container: eq = container_matches(r, e.text); break;
	case field::profile: eq = r.rule.profile == e.text || std::to_string(r.profile_id) == e.text; break;
	case field::action:
		eq = e.number & outcome_bit ? r.outcome == (e.number & ~outcome_bit) : r.action == e.number;
		break;
	case field::outcome: eq = r.outcome == e.number; break;
	case field::hook: eq = r.hook == e.number; break;
	default: eq = false;
	}
	return e.o == op::ne ? !eq : eq;
}

} // namespace

expression_parse parse_filter_expression(std::string_view text)
{
	parser p(text);
	std::unique_ptr<filter_expression> e = p.parse();
	expression_parse out;
	if (p.error()) {
		out.error = p.error()->message;
		out.column = p.error()->column;
		return out;
	}
	out.expr = std::shared_ptr<const filter_expression>(std::move(e));
	return out;
}

bool evaluate(const filter_expression &e, const decision_record &r)
{
	switch (e.k) {
	case filter_expression::kind::all_of:
		for (const auto &c : e.children)
			if (!evaluate(*c, r))
				return false;
		return true;
	case filter_expression::kind::any_of:
		for (const auto &c : e.children)
			if (evaluate(*c, r))
				return true;
		return false;
	case filter_expression::kind::negate: return !evaluate(*e.children.front(), r);
	case filter_expression::kind::compare: return compare(e, r);
	}
	return false;
}

} // namespace ltrack::tracing

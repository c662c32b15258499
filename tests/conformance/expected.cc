#include "tests/conformance/expected.h"

#include <fstream>
#include <map>

#include "ir/strings.h"

namespace nyx::conformance {

namespace {

bool selectsId(const Selection &selection, const std::string &id) {
  size_t slash = id.find('/');
  if (slash == std::string::npos)
    return selection.selects(id, "");
  return selection.selects(id.substr(0, slash), id.substr(slash + 1));
}

// What a case that does not pass did, for the regression list.
std::string whyNotPassing(const CaseResult &r) {
  if (r.status != Status::Pass)
    return strCat(statusName(r.status), ": ", r.message);
  return strCat("interpreter ", interpreterStatusName(r.interpreter), ": ",
                r.interpreterMessage);
}

} // namespace

absl::StatusOr<CaseIds> readExpected(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(strCat(path, ": cannot read the file"));
  CaseIds ids;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    if (!line.empty())
      ids.insert(line);
  }
  return ids;
}

absl::Status writeExpected(const std::string &path, const CaseIds &ids) {
  std::ofstream out(path);
  for (const std::string &id : ids)
    out << id << "\n";
  out.close();
  if (!out)
    return absl::InternalError(strCat(path, ": cannot write the file"));
  return absl::OkStatus();
}

ExpectedCheck checkExpected(const CaseIds &listed,
                            const std::vector<CaseResult> &results,
                            const Selection &selection) {
  std::map<std::string, const CaseResult *> byId;
  for (const CaseResult &r : results)
    byId[r.testCase.id()] = &r;
  ExpectedCheck check;
  for (const std::string &id : listed) {
    if (!selectsId(selection, id))
      continue;
    auto it = byId.find(id);
    if (it == byId.end())
      check.regressions.push_back(strCat(id, ": not found in the test data"));
    else if (!it->second->passes())
      check.regressions.push_back(strCat(id, ": ", whyNotPassing(*it->second)));
  }
  for (const auto &[id, r] : byId)
    if (r->passes() && !listed.count(id))
      check.newPasses.push_back(id);
  return check;
}

CaseIds updatedExpected(const CaseIds &listed,
                        const std::vector<CaseResult> &results,
                        const Selection &selection) {
  CaseIds ids;
  for (const std::string &id : listed)
    if (!selectsId(selection, id))
      ids.insert(id);
  for (const CaseResult &r : results)
    if (r.passes())
      ids.insert(r.testCase.id());
  return ids;
}

} // namespace nyx::conformance

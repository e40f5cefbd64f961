/*
 * test_privacy.c - the table list of lib/sks/privacy: the erasure walks it
 * backwards, so every child must come after its parent (exam answers after
 * their sessions, grading jobs after the answers, subscriptions after the
 * customers that find them, everything after the account); section names
 * are unique (they are the export's member names).
 */
#include <string.h>

#include "sks/privacy.h"
#include "tap.h"

static int pos(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int main(void)
{
    const char *const *names;
    int n = privacy_sections(&names), dup = 0;

    ok(n >= 13, "%d sections", n);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            dup += strcmp(names[i], names[j]) == 0;
    ok(dup == 0, "section names are unique");
    ok(pos(names, n, "account") == 0, "the account is first (erased last: its row is the parent)");
    ok(pos(names, n, "settings") > 0 && pos(names, n, "card_states") > 0 &&
           pos(names, n, "review_logs") > 0 && pos(names, n, "review_days") > 0 &&
           pos(names, n, "ai_usage") > 0 && pos(names, n, "data_exports") > 0 &&
           pos(names, n, "operator_actions") > 0,
       "every kind of data has its section");
    ok(pos(names, n, "exam_sessions") < pos(names, n, "exam_answers") &&
           pos(names, n, "exam_answers") < pos(names, n, "grading_jobs"),
       "sessions, then answers, then grading jobs (erased in reverse)");
    ok(pos(names, n, "stripe_customers") < pos(names, n, "stripe_subscriptions"),
       "subscriptions after the customers that find them (erased first)");
    ok(strcmp(PRIVACY_CONFIRM_WORD, "L\xc3\x96SCHEN") == 0 && strlen(PRIVACY_CONFIRM_WORD) == 8,
       "the confirmation word is LÖSCHEN in UTF-8");
    return tap_done();
}

/*
 * test_exams.c - the official outcomes of lib/sks/exams at their boundaries:
 * question sheet 39/33, chart task 20/17, and time_over failing either.
 */
#include <string.h>

#include "sks/exams.h"
#include "tap.h"

static int is(int kind, double total, int over, const char *want, int want_passed)
{
    int passed = -1;
    const char *got = exam_outcome(kind, total, over, &passed);
    return strcmp(got, want) == 0 && passed == want_passed;
}

int main(void)
{
    ok(is(EXAM_SHEET, 60, 0, "passed", 1) && is(EXAM_SHEET, 39, 0, "passed", 1),
       "sheet: 39 and more pass");
    ok(is(EXAM_SHEET, 38, 0, "oral_exam", 0) && is(EXAM_SHEET, 33, 0, "oral_exam", 0),
       "sheet: 33 to 38 go to the oral exam");
    ok(is(EXAM_SHEET, 32, 0, "failed", 0) && is(EXAM_SHEET, 0, 0, "failed", 0),
       "sheet: 32 and less fail");
    ok(is(EXAM_CHART, 20, 0, "passed", 1) && is(EXAM_CHART, 19.9, 0, "oral_exam", 0) &&
           is(EXAM_CHART, 17, 0, "oral_exam", 0) && is(EXAM_CHART, 16.9, 0, "failed", 0),
       "chart: 20 pass, 17 to 19.9 oral, below fails");
    ok(is(EXAM_SHEET, 60, 1, "failed", 0) && is(EXAM_CHART, 30, 1, "failed", 0),
       "a session over its time fails whatever the points");
    ok(exam_sheets(EXAM_SHEET) == 15 && exam_sheets(EXAM_CHART) == 10, "15 sheets, 10 charts");
    return tap_done();
}

#include "api/render.h"

#include "http/app.h"
#include "core/timefmt.h"

void render_time(struct buf *b, long long us)
{
    char t[TIMEFMT_ISO_MAX];
    timefmt_iso(us, t);
    buf_putc(b, '"');
    buf_puts(b, t);
    buf_putc(b, '"');
}

void render_scheduling(struct buf *b, const struct fsrs_card *c)
{
    const char *state = fsrs_state_name(c->state);

    buf_puts(b, "{\"state\":");
    buf_json_string(b, state != NULL ? state : "NEW");
    buf_puts(b, ",\"stability\":");
    buf_json_number(b, c->stability);
    buf_puts(b, ",\"difficulty\":");
    buf_json_number(b, c->difficulty);
    buf_printf(b, ",\"reps\":%d,\"lapses\":%d,\"due\":", c->reps, c->lapses);
    render_time(b, c->due_us);
    buf_puts(b, ",\"last_review\":");
    if (c->has_last_review)
        render_time(b, c->last_review_us);
    else
        buf_puts(b, "null");
    buf_putc(b, '}');
}

void render_study_card(struct buf *b, const struct study_card *s)
{
    buf_puts(b, "{\"card\":");
    buf_append(b, s->card->json, s->card->json_len);
    buf_puts(b, ",\"scheduling_info\":");
    render_scheduling(b, &s->fsrs);
    buf_putc(b, '}');
}

void render_strings(struct buf *b, const char *const *items, int n)
{
    buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(b, ',');
        buf_json_string(b, items[i]);
    }
    buf_putc(b, ']');
}

int render_send(struct request *r, int status)
{
    request_send_body(r, status, "application/json", buf_str(&r->app->out), r->app->out.len, NULL);
    return status;
}

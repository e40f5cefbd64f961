#include "infra/pgarr.h"

void pgarr_begin(struct pgarr *x)
{
    buf_init(&x->b);
    buf_putc(&x->b, '{');
}

static void sep(struct pgarr *x)
{
    if (x->b.len > 1)
        buf_putc(&x->b, ',');
}

void pgarr_text(struct pgarr *x, const char *s)
{
    sep(x);
    buf_putc(&x->b, '"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            buf_putc(&x->b, '\\');
        buf_putc(&x->b, *s);
    }
    buf_putc(&x->b, '"');
}

void pgarr_int(struct pgarr *x, long long v)
{
    sep(x);
    buf_printf(&x->b, "%lld", v);
}

void pgarr_double(struct pgarr *x, double v)
{
    sep(x);
    buf_printf(&x->b, "%.17g", v);
}

void pgarr_bool(struct pgarr *x, int v)
{
    sep(x);
    buf_putc(&x->b, v ? 't' : 'f');
}

void pgarr_null(struct pgarr *x)
{
    sep(x);
    buf_puts(&x->b, "NULL");
}

const char *pgarr_end(struct pgarr *x, struct arena *a)
{
    const char *s;

    buf_putc(&x->b, '}');
    s = arena_strndup(a, buf_str(&x->b), x->b.len);
    buf_cleanup(&x->b);
    return s;
}

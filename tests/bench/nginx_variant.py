#!/usr/bin/env python3
"""Render a bench variant of the test stack's nginx config (never the template).

  nginx_variant.py CONF_DIR --hello-sock PATH [--keepalive N]

CONF_DIR is what deploy/render-nginx.sh produced for the throwaway stack. The
first call keeps nginx.conf and snippets/fastcgi.conf as *.orig; every call
renders from those copies, so variants do not accumulate. Adds:
  - upstream bench_hello (the libfcgi hello's socket) and location
    = /bench/hello in the TLS server, next to /api/ and configured like it
    (same limit_req, FastCGI parameters and error pages);
  - with --keepalive N > 0: "keepalive N" in both FastCGI upstreams and
    "fastcgi_keep_conn on" in the shared FastCGI snippet (nginx <-> pool
    connections kept open instead of one per request).
"""
import argparse
import os
import re
import shutil
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("conf_dir")
    ap.add_argument("--hello-sock", required=True)
    ap.add_argument("--keepalive", type=int, default=0)
    ap.add_argument("--api-access-log", choices=("on", "off"), default="on")
    a = ap.parse_args()

    conf = os.path.join(a.conf_dir, "nginx.conf")
    snip = os.path.join(a.conf_dir, "snippets", "fastcgi.conf")
    for f in (conf, snip):
        if not os.path.exists(f + ".orig"):
            shutil.copyfile(f, f + ".orig")
    text = open(conf + ".orig").read()
    fcgi = open(snip + ".orig").read()

    ka = f"        keepalive {a.keepalive};\n" if a.keepalive > 0 else ""
    # The pool's upstream: add keepalive before its closing brace.
    m = re.search(r"(    upstream easysks_pool \{\n(?:.*\n)*?)(    \}\n)", text)
    if not m:
        sys.exit("nginx_variant: upstream easysks_pool not found")
    hello_up = (f"    upstream bench_hello {{\n        server unix:{a.hello_sock};\n{ka}    }}\n")
    text = text[:m.start()] + m.group(1) + ka + m.group(2) + hello_up + text[m.end():]

    loc = ("        location = /bench/hello {\n"
           "            limit_req zone=easysks_api burst=100000 nodelay;\n"
           f"            include {a.conf_dir}/snippets/api-errors.conf;\n"
           f"            include {a.conf_dir}/snippets/fastcgi.conf;\n"
           "            fastcgi_param SCRIPT_NAME \"\";\n"
           "            fastcgi_param PATH_INFO /hello;\n"
           "            fastcgi_pass bench_hello;\n"
           "        }\n\n")
    marker = f"        include {a.conf_dir}/snippets/extra-locations.conf;\n"
    if marker not in text:
        sys.exit("nginx_variant: extra-locations include not found")
    text = text.replace(marker, loc + marker, 1)
    # Stripe's webhook is limited to 50 r/s per client address; the bench's
    # single client address would measure nginx's 429s, not the pool.
    text, n = re.subn(r"(limit_req_zone \$binary_remote_addr zone=easysks_webhook:\S+ rate=)\S+;",
                      r"\g<1>100000r/s;", text)
    if n != 1:
        sys.exit("nginx_variant: the webhook's limit_req_zone not found")
    text = text.replace("limit_req zone=easysks_webhook burst=100 nodelay;",
                        "limit_req zone=easysks_webhook burst=100000 nodelay;")
    if a.api_access_log == "off":
        text = text.replace("        location /api/ {\n", "        location /api/ {\n            access_log off;\n", 1)
    if a.keepalive > 0:
        fcgi += "\n# bench variant: nginx <-> pool connections kept open\nfastcgi_keep_conn on;\n"
    open(conf, "w").write(text)
    open(snip, "w").write(fcgi)


if __name__ == "__main__":
    main()

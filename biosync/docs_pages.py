"""The API reference pages: Swagger UI and Redoc served from drf-spectacular-sidecar, Scalar from a CDN.

Scalar is pinned and hashed (Subresource Integrity): the browser refuses the script if the CDN
serves anything else. To move to another version:
`npm pack @scalar/api-reference@<version>`, then the hash of `package/dist/browser/standalone.js`:
`openssl dgst -sha384 -binary standalone.js | openssl base64 -A`.
"""

from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularRedocView

SCALAR_VERSION = "1.76.4"
SCALAR_JS_URL = f"https://cdn.jsdelivr.net/npm/@scalar/api-reference@{SCALAR_VERSION}/dist/browser/standalone.js"
SCALAR_JS_INTEGRITY = "sha384-hwB9WroDTpZaI38gr+u9CXA6ksz5gUYgD2GxXazKl/agT1L2GWUiRFWGJYNiFu4Q"

scalar_page = TemplateView.as_view(
    template_name="scalar.html",
    extra_context={"schema_url": "/doc", "scalar_js_url": SCALAR_JS_URL, "scalar_js_integrity": SCALAR_JS_INTEGRITY},
)
redoc_page = SpectacularRedocView.as_view(url_name="schema", template_name="docs/redoc_offline.html")

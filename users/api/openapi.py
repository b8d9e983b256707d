"""OpenAPI security schemes for the one authentication class (imported by users.api.views)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ClerkIdentityScheme(OpenApiAuthenticationExtension):
    target_class = "users.authentication.ClerkIdentityAuthentication"
    name = ["clerkIdHeader", "clerkSessionToken"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "x-clerk-id",
                "description": "Dev mode (AUTH_MODE=dev): the Clerk user id, trusted as the seed server did.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Clerk mode (AUTH_MODE=clerk): a Clerk session token, verified offline.",
            },
        ]

    def get_security_requirement(self, auto_schema):
        # Either one, depending on the server's AUTH_MODE.
        return [{"clerkIdHeader": []}, {"clerkSessionToken": []}]

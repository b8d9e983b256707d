"""A GET with exactly the headers given, and a server's /metrics samples, over real sockets."""

import http.client

from prometheus_client.parser import text_string_to_metric_families


def get(server, path: str, headers=()) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, the response's headers but the date, sorted, body); `headers` may repeat a name."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        names = {name.lower() for name, _ in headers}
        connection.putrequest("GET", path, skip_host="host" in names, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        kept = sorted((name.lower(), value) for name, value in response.getheaders() if name.lower() != "date")
        return response.status, kept, response.read()
    finally:
        connection.close()


def metric_samples(server) -> dict:
    _, _, text = get(server, "/metrics")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }

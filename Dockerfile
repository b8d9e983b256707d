FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOST=0.0.0.0
WORKDIR /app
COPY requirements.txt .
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir --require-hashes -r requirements.txt \
    && touch ".venv/.installed-$(cat requirements.txt requirements.txt | sha1sum | cut -c1-12)"
COPY . .
RUN DEBUG=false .venv/bin/python manage.py collectstatic --noinput -v 0
EXPOSE 3000 3002
CMD ["scripts/serve"]

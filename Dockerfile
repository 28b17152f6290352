FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    INSTANCE_PATH=/app/instance

WORKDIR /app
COPY pyproject.toml README.md ./
COPY exchange ./exchange
RUN pip install -e . && pybabel compile -d exchange/translations
COPY . .
RUN useradd --create-home --uid 10001 exchange && mkdir -p instance/attachments && chown -R exchange instance
USER exchange
ENV PATH="/app/bin:${PATH}"
EXPOSE 8000
CMD ["web"]

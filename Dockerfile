# The project image: Rasa, the action server and the page server (chat page + staff page), one role per
# container (scripts/container.sh rasa|actions|web). The model is trained in the train stage, so the image
# runs without a checkout of the repository. Build from the repository root:
#   docker build -t filmbot:latest .
# A registry change needs no retraining: take the model of the image already running,
#   docker build --build-arg MODEL_FROM=filmbot:latest -t filmbot:latest .
# (BuildKit then skips the training stage). Checked by tests/test_deploy.py (hadolint, compose and Helm
# validation); deploy/README.md runs it.
ARG MODEL_FROM=train

FROM node:20-bookworm-slim AS web
WORKDIR /app/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.10.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
# the same install step as `make setup` and CI
COPY requirements.lock ./
COPY scripts/install_requirements.sh scripts/
RUN python -m venv /app/.venv && scripts/install_requirements.sh /app/.venv/bin/python
COPY . .

# train the model (scripts/train.sh, as `make train`), keeping only models/
FROM build AS train
RUN scripts/train.sh && rm -rf var .rasa

# the model: trained above, or (MODEL_FROM) the one in an earlier image of this project
FROM ${MODEL_FROM} AS model

FROM python:3.10.13-slim-bookworm
ENV PATH=/app/.venv/bin:$PATH PYTHONPATH=/app PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    FILMBOT_ENDPOINTS=endpoints.prod.yml FILMBOT_RUN_DIR=/tmp/filmbot
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin filmbot
WORKDIR /app
COPY --from=build --chown=filmbot:filmbot /app /app
COPY --from=web --chown=filmbot:filmbot /app/web/node_modules /app/web/node_modules
COPY --from=model --chown=filmbot:filmbot /app/models /app/models
USER 10001
EXPOSE 5005 5055 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 CMD ["scripts/container.sh", "health"]
ENTRYPOINT ["scripts/container.sh"]
CMD ["rasa"]

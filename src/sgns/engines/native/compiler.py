"""How the native engine's compiled code is compiled: LLVM's settings for its loops (fast-math
flags, no loop interleaving, the vector width that suits the CPU), the compiler that every
update kernel goes through, and a prefetch of a table row. Nothing here knows word2vec."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from llvmlite import binding as llvm
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.compiler import Compiler
from numba.extending import intrinsic

# Reassociation lets LLVM vectorise the dot products; nnan/ninf are left out on purpose (above).
FASTMATH = {"reassoc", "contract", "arcp", "nsz", "afn"}


_interleaving_off = [0]  # how many no_interleaving contexts are open


@contextmanager
def no_interleaving() -> Iterator[None]:
    """LLVM's vectoriser told not to interleave loops, for the compiles inside (a process-wide
    LLVM option, back to its default, 0 = its own choice, afterwards). Interleaved, a row loop
    of unknown length runs 2-4 vectors an iteration and leaves the rest to a scalar loop: 48 of
    a 112-float row's 112 floats. The skip-gram kernel took 133 ns a context row of 112 floats
    interleaved and 102 ns not (``benchmarks/bench_rows.py``, AVX-512 Xeon). Nested uses
    (a loop compiled inside, whose kernels are compiled inside too) keep it off until the
    outermost ends (numba compiles one function at a time, under its lock)."""
    _interleaving_off[0] += 1
    llvm.set_option("", "--force-vector-interleave=1")
    try:
        yield
    finally:
        _interleaving_off[0] -= 1
        if _interleaving_off[0] == 0:
            llvm.set_option("", "--force-vector-interleave=0")


class KernelCompiler(Compiler):
    """numba's compiler for an update kernel (``pipeline_class``, numba's documented hook),
    with two settings of its own, whoever calls it first, a test or the engine's loop:

    - its array arguments are ``noalias`` to LLVM (numba's ``noalias`` flag): a kernel's
      arrays are distinct allocations (the two tables, their index lists, the loop's scratch),
      and LLVM otherwise guards every vectorised row loop with run-time overlap checks, one per
      pair of rows it reads and writes (some 40 compares and spilled loads before each context
      row's update in the skip-gram kernel). Once the kernel is inlined into its caller, LLVM
      keeps this as scoped alias metadata.
    - its loops are not interleaved (:func:`no_interleaving`), as the engine's loops."""

    def __init__(self, typingctx, targetctx, library, args, return_type, flags, locals):
        flags = flags.copy()
        flags.noalias = True
        super().__init__(typingctx, targetctx, library, args, return_type, flags, locals)

    def compile_extra(self, func):
        with no_interleaving():
            return super().compile_extra(func)

    def compile_ir(self, func_ir, lifted=(), lifted_from=None):
        with no_interleaving():
            return super().compile_ir(func_ir, lifted, lifted_from)


# An update kernel: compiled by KernelCompiler, and inlined by LLVM into the loop that calls it.
# Its callers promise what noalias says: no two of its array arguments share memory.
kernel = njit(cache=True, fastmath=FASTMATH, forceinline=True, pipeline_class=KernelCompiler)


def target_cpu() -> str:
    """The CPU numba compiles for: ``NUMBA_CPU_NAME`` where set (to build for another CPU),
    else this machine's, as LLVM names it (``skylake-avx512``, ``znver4``, ``neoverse-v1``)."""
    from numba.core import config

    return config.CPU_NAME or llvm.get_host_cpu_name()


def preferred_vector_width(cpu: str) -> int | None:
    """The vector width, in bits, that the hot loops ask LLVM for on ``cpu``; None leaves LLVM's
    own choice for that CPU.

    - Intel CPUs with AVX-512 (Skylake-SP and later): 512. LLVM prefers 256-bit vectors there
      unless a function asks (clang's ``-mprefer-vector-width=512``), so a 112-float row took 14
      vector operations instead of 7; CBOW ran 0.289 s an epoch against 0.329 s on a Xeon
      (``benchmarks/bench_ab.py``).
    - AMD Zen (``znver*``): 256. Zen 4 runs a 512-bit operation as two 256-bit halves, and the
      same skip-gram run built for ``haswell`` (256-bit) trained faster there than LLVM's
      512-bit default for Zen 4 (docs/engines.md, "Vector width").
    - Anything else (AVX2 x86, ARM): None; a width the CPU lacks would change nothing anyway."""
    if cpu.startswith("znver"):
        return 256
    if cpu in _INTEL_AVX512:
        return 512
    return None


# LLVM's names of the Intel CPUs with AVX-512 (llc -mcpu=help).
_INTEL_AVX512 = frozenset({
    "skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake-client",
    "icelake-server", "tigerlake", "rocketlake", "sapphirerapids", "emeraldrapids",
    "graniterapids", "graniterapids-d", "knl", "knm", "x86-64-v4"})


class _VectorWidthAttributes(ir.FunctionAttributes):
    # llvmlite writes a function's attributes as given but accepts only the names it lists;
    # LLVM's string attribute is one more name here.
    _known = ir.FunctionAttributes._known | {
        f'"prefer-vector-width"="{bits}"' for bits in (256, 512)}


@intrinsic
def wide_vectors(typingctx):
    """Ask LLVM for the vector width that suits the target CPU (:func:`preferred_vector_width`)
    in the calling compiled function. Call it first in every compiled function whose loops are
    hot (a kernel inlined into its caller marks the caller). numba's cache keys compiled code on
    the CPU's name and features, so a cached build never crosses to another kind of CPU."""

    def codegen(context, builder, sig, args):
        bits = preferred_vector_width(target_cpu())
        if bits is None:
            return context.get_dummy_value()
        function = builder.function
        attributes = _VectorWidthAttributes()
        for name in function.attributes:
            attributes.add(name)
        attributes.alignstack = function.attributes.alignstack
        attributes.personality = function.attributes.personality
        attributes.add(f'"prefer-vector-width"="{bits}"')
        function.attributes = attributes
        return context.get_dummy_value()

    return types.void(), codegen


def _prefetch(builder, address, write: bool) -> None:
    """One ``llvm.prefetch`` of the line holding ``address``: (address, 0 = for reading or 1 =
    for writing, 3 = keep in all cache levels, 1 = data)."""
    byte_ptr = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    prefetch = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
        "llvm.prefetch.p0i8")
    builder.call(prefetch, [builder.bitcast(address, byte_ptr), i32(int(write)), i32(3), i32(1)])


def _c_array_and_index(array, index, ndim: int) -> bool:
    return (isinstance(array, types.Array) and array.ndim == ndim and array.layout == "C"
            and isinstance(index, types.Integer))


def _address_of(context, builder, sig, args):
    """The address of ``array[index, 0, ...]`` (the intrinsic's two arguments), and the
    array's structure."""
    array_type = sig.args[0]
    array = context.make_array(array_type)(context, builder, args[0])
    index = context.cast(builder, args[1], sig.args[1], types.intp)
    zero = context.get_constant(types.intp, 0)
    place = [index] + [zero] * (array_type.ndim - 1)
    return cgutils.get_item_pointer(context, builder, array_type, array, place), array


@intrinsic
def prefetch_row(typingctx, table, row):
    """Ask the CPU to bring row ``row`` of a C-contiguous 2-D table into cache for writing,
    without waiting for it: LLVM's ``llvm.prefetch``, one per 64-byte line. A hint: it reads
    nothing and never faults, whatever the row."""
    if not _c_array_and_index(table, row, 2):
        return None

    def codegen(context, builder, sig, args):
        start, array = _address_of(context, builder, sig, args)
        base = builder.bitcast(start, ir.IntType(8).as_pointer())
        itemsize = context.get_constant(types.intp, sig.args[0].dtype.bitwidth // 8)
        row_bytes = builder.mul(itemsize, cgutils.unpack_tuple(builder, array.shape)[1])
        zero = context.get_constant(types.intp, 0)
        line = context.get_constant(types.intp, 64)
        with cgutils.for_range_slice(builder, zero, row_bytes, line) as (offset, _):
            _prefetch(builder, builder.gep(base, [offset]), write=True)
        return context.get_dummy_value()

    return types.void(table, row), codegen


@intrinsic
def prefetch_item(typingctx, array, index):
    """Ask the CPU to bring the line that holds ``array[index]`` (a C-contiguous 1-D array)
    into cache for reading, without waiting for it. A hint, as :func:`prefetch_row`."""
    if not _c_array_and_index(array, index, 1):
        return None

    def codegen(context, builder, sig, args):
        _prefetch(builder, _address_of(context, builder, sig, args)[0], write=False)
        return context.get_dummy_value()

    return types.void(array, index), codegen


def _borrowed_value(context, builder, typ, value):
    if isinstance(typ, types.Array):
        owned = context.make_array(typ)(context, builder, value=value)
        view = context.make_array(typ)(context, builder)
        for field in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(view, field, getattr(owned, field))
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()
    if isinstance(typ, types.BaseTuple):
        items = [_borrowed_value(context, builder, item, builder.extract_value(value, k))
                 for k, item in enumerate(typ)]
        return context.make_tuple(builder, typ, items)
    return value


@intrinsic
def borrowed(typingctx, value):
    """``value`` (an array, or a tuple or named tuple of arrays) as views of the same memory
    that own none of it: no reference count, so that numba's counting of them (at every call,
    slice and inlined helper: some 20 a CBOW center) is a test for null, not an atomic add.
    Atomic adds on the tables' and the noise table's shared counts made the threads fight over
    those counts' cache lines: in a profile of CBOW on one worker, 22% of the compiled loop's
    samples were numba's ``NRT_incref``/``NRT_decref``. The caller keeps the owner alive for as
    long as the views are used (an argument of the calling function, or a variable it still
    uses after them); a view never leaves compiled code."""
    if not isinstance(value, (types.Array, types.BaseTuple)):
        return None

    def codegen(context, builder, sig, args):
        return _borrowed_value(context, builder, sig.args[0], args[0])

    return value(value), codegen

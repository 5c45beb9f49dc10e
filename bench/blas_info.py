"""Which BLAS this Python process actually runs, for the baselines' records: the libraries mapped into it (numpy and
PyTorch both reach BLAS through Debian's libblas.so.3 alternative, which may be the netlib reference BLAS or OpenBLAS)
and, for OpenBLAS, the kernel and threads threadpoolctl reports. Call describe() after the first matrix product."""
import os


def loaded_blas():
    paths = set()
    with open('/proc/self/maps') as maps:
        for line in maps:
            path = line.split()[-1]
            name = os.path.basename(path)
            if path.startswith('/') and any(k in name for k in ('blas', 'mkl_rt', 'blis')):
                paths.add(os.path.realpath(path))
    return sorted(paths)


def describe():
    try:
        import threadpoolctl
        known = {os.path.realpath(i['filepath']): i for i in threadpoolctl.threadpool_info() if i.get('user_api') == 'blas'}
    except ImportError:
        known = None
    parts = []
    known_directories = {os.path.dirname(path) for path in known or {}}
    for path in loaded_blas():
        info = (known or {}).get(path)
        if not info and os.path.dirname(path) in known_directories:
            continue  # the libblas.so.3 front of the library threadpoolctl names
        if info:
            parts.append(f"{info['internal_api']} {info.get('version')} ({info.get('architecture')} kernel, "
                         f"{info.get('num_threads')} threads, {path})")
        elif '/blas/libblas.so' in path:
            parts.append(f'netlib reference BLAS, single-threaded, no SIMD kernels ({path}): NOT a fair baseline, '
                         'apt-get install libopenblas0-pthread')
        elif known is None:
            parts.append(f'{path} (apt-get install python3-threadpoolctl to name its kernel)')
        else:
            parts.append(path)
    return '; '.join(parts) or 'no BLAS library loaded'

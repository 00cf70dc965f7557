#if canImport(Glibc)
import Glibc
#endif

/// One object per thread, made on first use and released when the thread ends: caches the
/// parsing threads consult on every page (`DomainCache`, `TextMemo`) without taking a lock.
final class PerThread<Value: AnyObject>: @unchecked Sendable {
    // Written once in `init`, then only read: safe to share.
    private var key = pthread_key_t()
    private let make: @Sendable () -> Value

    init(_ make: @escaping @Sendable () -> Value) {
        self.make = make
        pthread_key_create(&key) { p in
            if let p { Unmanaged<AnyObject>.fromOpaque(p).release() }
        }
    }

    /// This thread's object.
    var current: Value {
        if let p = pthread_getspecific(key) { return Unmanaged<Value>.fromOpaque(p).takeUnretainedValue() }
        let value = make()
        pthread_setspecific(key, Unmanaged.passRetained(value).toOpaque())
        return value
    }
}

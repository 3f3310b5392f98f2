package org.flowfiji.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A layer's fixed arrays (masks, permutations, identities), built once per device, data type and
 * shape instead of once per pass.
 *
 * <p>The arrays live in the manager of the layer's parameters (the model's manager), so closing the
 * model frees them; a pass gets a view attached to its own manager, so no expression attaches a
 * result to the long-lived manager. At most {@link #CAPACITY} arrays are kept (maps tile images
 * into a few sizes only); the oldest is closed when a new one does not fit. Closing a cached array
 * does not free memory a pass still uses: its view keeps the storage alive.
 */
final class Constants {

    /** Arrays kept per layer. */
    static final int CAPACITY = 8;

    private final Parameter anchor;
    private final Map<String, NDArray> arrays = new LinkedHashMap<>();

    /** @param anchor a parameter of the layer: the cache lives in the manager of its array */
    Constants(Parameter anchor) {
        this.anchor = anchor;
    }

    /**
     * A view, in the pass's manager, of the constant {@code name} with {@code shape} on
     * {@code like}'s device and data type; {@code values} (row-major) is called only the first time.
     */
    synchronized NDArray get(FlowContext ctx, NDArray like, String name, Shape shape, Supplier<double[]> values) {
        String key = name + '|' + shape + '|' + like.getDevice() + '|' + like.getDataType();
        NDArray base = arrays.get(key);
        if (base == null || base.isReleased()) {
            NDManager owner = anchor.getArray().getManager();
            try (NDManager staging = owner.newSubManager()) {
                base = staging.create(values.get(), shape)
                        .toDevice(like.getDevice(), false)
                        .toType(like.getDataType(), false);
                base.attach(owner);
            }
            arrays.put(key, base);
            evict();
        }
        // the view is taken under the lock: another pass may evict (close) the cached array next
        NDArray view = base.reshape(shape);
        view.attach(ctx.manager());
        return view;
    }

    /** Forgets (and frees) every array, for a layer whose fixed values have changed. */
    synchronized void clear() {
        arrays.values().forEach(NDArray::close);
        arrays.clear();
    }

    private void evict() {
        Iterator<NDArray> it = arrays.values().iterator();
        while (arrays.size() > CAPACITY && it.hasNext()) {
            NDArray oldest = it.next();
            it.remove();
            oldest.close();
        }
    }
}

package io.isthmus.mesh.snapshot;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToIntFunction;
import java.util.random.RandomGenerator;

/**
 * Picks one of several items in proportion to their weights: an immutable table of cumulative weights
 * searched in {@code O(log n)} without allocating. Thread-safe; the caller supplies the randomness.
 *
 * <pre>{@code
 * WeightedChoice<String> c = WeightedChoice.of(List.of("osaka", "kyoto"), s -> s.equals("osaka") ? 90 : 10);
 * String site = c.pick(ThreadLocalRandom.current());   // "osaka" 9 times in 10
 * }</pre>
 *
 * @param <T> the item type
 */
public final class WeightedChoice<T> {

    private final List<T> items;
    private final int[] cumulative;
    private final int total;

    private WeightedChoice(List<T> items, int[] cumulative) {
        this.items = items;
        this.cumulative = cumulative;
        this.total = cumulative.length == 0 ? 0 : cumulative[cumulative.length - 1];
    }

    /**
     * Creates a choice.
     *
     * @param items the items, possibly none
     * @param weight the weight of an item, &gt; 0
     * @param <T> the item type
     * @return the choice
     * @throws IllegalArgumentException when a weight is not positive or the total overflows
     */
    public static <T> WeightedChoice<T> of(List<T> items, ToIntFunction<? super T> weight) {
        List<T> copy = List.copyOf(items);
        int[] cumulative = new int[copy.size()];
        long sum = 0;
        for (int i = 0; i < copy.size(); i++) {
            int w = weight.applyAsInt(copy.get(i));
            Preconditions.checkArgument(w > 0, "weight of %s: %s (expected: > 0)", copy.get(i), w);
            sum += w;
            Preconditions.checkArgument(sum <= Integer.MAX_VALUE, "total weight: %s (expected: <= %s)", sum,
                    Integer.MAX_VALUE);
            cumulative[i] = (int) sum;
        }
        return new WeightedChoice<>(copy, cumulative);
    }

    /** @return the items, in the order given */
    public List<T> items() {
        return items;
    }

    /** @return the sum of the weights; 0 when there are no items */
    public int totalWeight() {
        return total;
    }

    /** @return whether there is nothing to pick */
    public boolean isEmpty() {
        return items.isEmpty();
    }

    /**
     * Picks the item that owns a ticket: tickets {@code [0, w0)} pick the first item, {@code [w0, w0 +
     * w1)} the second, and so on.
     *
     * @param ticket a number in {@code [0, totalWeight())}
     * @return the item
     * @throws IllegalArgumentException when the ticket is out of range
     * @throws IllegalStateException when there are no items
     */
    public T pick(int ticket) {
        if (ticket < 0 || ticket >= total) {
            // Built here only: the message's arguments (boxed, in an array) would cost every pick.
            throw total <= 0 ? new IllegalStateException("no items to pick from")
                    : new IllegalArgumentException("ticket: " + ticket + " (expected: 0-" + (total - 1) + ")");
        }
        if (cumulative.length == 1) {
            return items.get(0);
        }
        int i = Arrays.binarySearch(cumulative, ticket + 1);
        return items.get(i >= 0 ? i : -i - 1);
    }

    /**
     * Picks an item at random in proportion to its weight.
     *
     * @param random the source of randomness, e.g. {@code ThreadLocalRandom.current()}
     * @return the item
     * @throws IllegalStateException when there are no items
     */
    public T pick(RandomGenerator random) {
        requireNonNull(random, "random");
        if (total <= 0) {
            throw new IllegalStateException("no items to pick from");
        }
        return cumulative.length == 1 ? items.get(0) : pick(random.nextInt(total));
    }

    @Override
    public String toString() {
        return "WeightedChoice{items=" + items + ", total=" + total + '}';
    }
}

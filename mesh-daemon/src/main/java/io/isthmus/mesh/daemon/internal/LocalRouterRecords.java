package io.isthmus.mesh.daemon.internal;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** The records of a daemon on the embedded store: only its own. */
public final class LocalRouterRecords implements RouterRecords {

    private volatile @Nullable Record self;

    @Override
    public void publish(Record self) {
        this.self = self;
    }

    @Override
    public List<Record> list() {
        Record record = self;
        return record == null ? List.of() : List.of(record);
    }

    @Override
    public void close() {}
}

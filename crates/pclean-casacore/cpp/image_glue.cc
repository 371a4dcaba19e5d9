// CASA image tables (PagedImage<Float> layout) for pclean: creation exactly as casacore's PagedImage /
// PagedArray::makeArray do it (column "map", hypercolumn, TiledCellStMan "map", TableInfo "Image", a
// TableLogSink-style `logtable` subtable), plus sliced reads and writes of the single `map` cell.
// Table keywords other than `logtable` (coords, imageinfo, units, miscinfo) are written from Rust
// through rubbl's TableRecord API.
//
// Sources mirrored: images/Images/PagedImage.tcc (makePagedImage, setTableType),
// lattices/Lattices/PagedArray.tcc (makeArray), tables/LogTables/TableLogSink.cc
// (logTableDescription, makeTable, attachCols).
//
// Every function is extern "C", never throws, and reports failure through PcExc.

#include "glue_common.h"

#include <casacore/casa/Arrays/Array.h>
#include <casacore/casa/Arrays/IPosition.h>
#include <casacore/casa/Arrays/Slicer.h>
#include <casacore/casa/Arrays/Vector.h>
#include <casacore/tables/DataMan/DataManager.h>
#include <casacore/tables/DataMan/StandardStMan.h>
#include <casacore/tables/DataMan/TiledCellStMan.h>
#include <casacore/tables/DataMan/TiledStManAccessor.h>
#include <casacore/tables/Tables/ArrColDesc.h>
#include <casacore/tables/Tables/ArrayColumn.h>
#include <casacore/tables/Tables/ScaColDesc.h>
#include <casacore/tables/Tables/ScalarColumn.h>
#include <casacore/tables/Tables/SetupNewTab.h>
#include <casacore/tables/Tables/Table.h>
#include <casacore/tables/Tables/TableColumn.h>
#include <casacore/tables/Tables/TableDesc.h>
#include <casacore/tables/Tables/TableInfo.h>
#include <casacore/tables/Tables/TableRecord.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include <dirent.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace casacore;

struct PcImageTable {
    Table table;
    ArrayColumn<Float> map;
    // The default pixel mask (`mask0`), when the image has one and is open for update.
    Table mask;
    ArrayColumn<Bool> maskcol;
};

static IPosition pc_ipos4(const int64_t *v) {
    return IPosition(4, (ssize_t)v[0], (ssize_t)v[1], (ssize_t)v[2], (ssize_t)v[3]);
}

// TableLogSink::logTableDescription + makeTable + attachCols, for the mandatory `logtable` subtable.
// Write (read) the box starting at `blc` with lengths `len` (4 axes, Fortran order) of the single
// cell of `col` from (into) `data`: prod(len) values, axis 0 fastest.
template <typename T>
static void pc_put_box(ArrayColumn<T> &col, const int64_t *blc, const int64_t *len, const T *data) {
    IPosition l = pc_ipos4(len);
    const Array<T> arr(l, const_cast<T *>(data), SHARE);
    col.putSlice(0, Slicer(pc_ipos4(blc), l, Slicer::endIsLength), arr);
}
template <typename T>
static void pc_get_box(ArrayColumn<T> &col, const int64_t *blc, const int64_t *len, T *data) {
    IPosition l = pc_ipos4(len);
    Array<T> arr(l, data, SHARE);
    col.getSlice(0, Slicer(pc_ipos4(blc), l, Slicer::endIsLength), arr, False);
}

static Table pc_make_logtable(const String &path) {
    TableDesc desc;
    desc.comment() = "Log message table";
    desc.addColumn(ScalarColumnDesc<Double>("TIME", "MJD in seconds"));
    ScalarColumnDesc<String> pdesc("PRIORITY");
    pdesc.setMaxLength(9);
    desc.addColumn(pdesc);
    desc.addColumn(ScalarColumnDesc<String>("MESSAGE"));
    desc.addColumn(ScalarColumnDesc<String>("LOCATION"));
    desc.addColumn(ScalarColumnDesc<String>("OBJECT_ID"));
    SetupNewTable setup(path, desc, Table::New);
    StandardStMan stman("SSM", 32768);
    setup.bindAll(stman);
    Table log(setup);
    log.tableInfo() = TableInfo(TableInfo::LOG);
    log.tableInfo().readmeAddLine("Repository for software-generated logging messages");
    return log;
}

// Bound the tile cache of a pixel or mask column to `bound_mib` MiB (casacore's
// TiledStMan::setMaximumCacheSize takes MiB; at least one tile is always cached, and a 10% overdraft
// allowed). pclean writes and reads whole planes, each tile once; casacore's default cache grew
// with every plane written (tens of MiB per product on a cube).
static void pc_limit_cache(const Table &table, const String &column, uInt bound_mib) {
    try {
        ROTiledStManAccessor acc(table, column);
        acc.setMaximumCacheSize(std::max<uInt>(1u, bound_mib));
    } catch (...) {
        // Another storage manager or data manager name (images not written by pclean): keep its
        // default cache.
    }
}
// The pixel column: one plane of floats. A mask column: 1 MiB (casacore's least; a plane of
// bools would be 16 MiB per product at 4096^2, and every tile is visited once anyway).
static void pc_limit_cache(PcImageTable *img) {
    double plane_mib = 1.0;
    try {
        IPosition shp = img->map.shape(0);
        plane_mib = double(shp(0)) * double(shp(1)) * sizeof(Float) / (1024.0 * 1024.0);
    } catch (...) {
    }
    pc_limit_cache(img->table, "map", uInt(std::ceil(plane_mib)));
}

// A damaged table can claim any cell shape (a flipped bit in the tiled storage manager's header,
// table.f0, or in table.dat), and casacore and pclean's readers allocate buffers by that shape:
// a shape of 2^40 pixels would take the process's memory. Before anything is read, the bytes that
// the shape needs (every tile of every hypercube, `bits` bits a pixel) are checked against the
// bytes the storage manager's tile files hold: a complete table stores every tile (casacore writes
// the new, still empty tiles at its first flush; pclean pre-sizes its tile files), so a shape
// that needs more is a damaged table, refused with both numbers before any allocation by it.
static void pc_check_stored_shape(const Table &table, const String &column, double bits) {
    DataManager *dm = table.findDataManager(column, True);
    if (dm->dataManagerType().find("Tiled") == String::npos) return;  // not a tiled manager
    String base = dm->fileName() + "_TSM";
    ROTiledStManAccessor acc(table, dm->dataManagerName());
    double need = 0.0;
    for (uInt c = 0; c < acc.nhypercubes(); c++) {
        const IPosition &shp = acc.getHypercubeShape(c);
        const IPosition &tsh = acc.getTileShape(c);
        if (shp.nelements() == 0) continue;  // a cube without data yet
        if (tsh.nelements() != shp.nelements()) {
            throw std::runtime_error("column " + column + ": hypercube " + std::to_string(c) +
                                     " has shape " + shp.toString() + " but tile shape " +
                                     tsh.toString() + "; the table is damaged");
        }
        double tiles = 1.0, tile = 1.0;
        for (uInt i = 0; i < shp.nelements(); i++) {
            if (shp[i] < 1 || tsh[i] < 1) {
                throw std::runtime_error("column " + column + ": hypercube shape " +
                                         shp.toString() + " with tile shape " + tsh.toString() +
                                         " has an empty axis; the table is damaged");
            }
            tiles *= std::ceil(double(shp[i]) / double(tsh[i]));
            tile *= double(tsh[i]);
        }
        need += tiles * std::ceil(tile * bits / 8.0);
    }
    // The tile files: <data manager file>_TSM<n>, one per file sequence number.
    double have = 0.0;
    size_t slash = base.rfind('/');
    std::string dir = slash == std::string::npos ? std::string(".") : base.substr(0, slash);
    std::string stem = slash == std::string::npos ? std::string(base) : base.substr(slash + 1);
    if (DIR *d = opendir(dir.c_str())) {
        while (struct dirent *e = readdir(d)) {
            std::string n(e->d_name);
            struct stat st;
            if (n.size() > stem.size() && n.compare(0, stem.size(), stem) == 0 &&
                stat((dir + "/" + n).c_str(), &st) == 0) {
                have += double(st.st_size);
            }
        }
        closedir(d);
    }
    if (need > have) {
        std::ostringstream os;
        os.precision(15);
        os << "column " << column << ": its stored shape " << acc.getHypercubeShape(0).toString()
           << " (tiles " << acc.getTileShape(0).toString() << ") needs " << need
           << " bytes of tile data but the tile files " << base << "* hold " << have
           << " bytes; the table is damaged (truncated, or a corrupted shape in table.f0 or "
              "table.dat): re-create it or copy it again";
        throw std::runtime_error(os.str());
    }
}

// Give the (still empty) tile file of a new TiledCellStMan its full length as a sparse file before
// the cell shape is set. casacore's BucketCache counts the buckets already in the file from the
// file's size when the cache is made (in TSMCube::setShape); buckets beyond that are "new", and the
// first flush (or a put to a later bucket) writes every new bucket, all zeros, through the cache.
// With the file already long enough every tile counts as present, unwritten tiles read as zeros
// from the holes, and each tile is written once, when its plane is. Returns the length set (0 when
// the file was not in the expected state, and casacore then initialises tiles as it always did).
static int64_t pc_presize_tile_file(Table &table, const IPosition &shp, const IPosition &tsh) {
    DataManager *dm = table.findDataManager("map");
    String file = dm->fileName() + "_TSM0";
    struct stat st;
    if (stat(file.c_str(), &st) != 0 || st.st_size != 0) {
        return 0;
    }
    // TSMCube::setup: one bucket per tile, the tile's pixels in external (4-byte) Float format.
    int64_t ntiles = 1;
    for (uInt i = 0; i < shp.nelements(); i++) {
        ntiles *= (shp[i] + tsh[i] - 1) / tsh[i];
    }
    int64_t length = ntiles * tsh.product() * int64_t(sizeof(Float));
    if (truncate(file.c_str(), (off_t)length) != 0) {
        throw std::runtime_error("cannot size " + std::string(file.c_str()) + ": " +
                                 std::strerror(errno));
    }
    return length;
}

// Free a handle after a failed write or open without writing its tables again (see
// pc_image_close).
static void pc_image_discard(PcImageTable *img) noexcept {
    if (!img->table.isNull()) pc_tables_do_not_write(img->table.tableName());
    delete img;
}

extern "C" {

// Create a new CASA image table at `path` with pixel shape `shape` = [nx, ny, nstokes, nchan] and
// tile shape `tile`; fails if anything exists at `path` (Table::NewNoReplace). The returned handle is
// open for writing; release it with pc_image_close. Pixels not yet written read as zero.
PcImageTable *pc_image_create(const char *path, const int64_t *shape, const int64_t *tile,
                              PcExc *exc) {
    PcImageTable *img = nullptr;
    PC_TRY(exc) {
        String name(path);
        {
            size_t slash = name.rfind('/');
            pc_check_space(slash == std::string::npos ? std::string(".") : name.substr(0, slash));
        }
        IPosition shp = pc_ipos4(shape);
        IPosition tsh = pc_ipos4(tile);
        TableDesc desc;
        desc.addColumn(ArrayColumnDesc<Float>("map", "version 4.0", 4));
        Vector<String> datanames(1);
        datanames(0) = "map";
        desc.defineHypercolumn("map", 4, datanames);
        SetupNewTable setup(name, desc, Table::NewNoReplace);
        TiledCellStMan stman("map", tsh);
        setup.bindAll(stman);
        img = new PcImageTable;
        // Native byte order (casacore's default unless an aipsrc says otherwise), so that pixels can
        // go to the tile file without conversion (pc_image_tile_layout).
        img->table = Table(setup, 1, False, Table::LocalEndian);
        img->map.attach(img->table, "map");
        int64_t presized = pc_presize_tile_file(img->table, shp, tsh);
        img->map.setShape(0, shp, tsh);
        if (presized > 0) {
            // The sizing must match casacore's own layout, or tiles would be misplaced.
            ROTiledStManAccessor acc(img->table, "map");
            IPosition t = acc.tileShape(0);
            int64_t ntiles = 1;
            for (uInt i = 0; i < shp.nelements(); i++) {
                ntiles *= (shp[i] + t[i] - 1) / t[i];
            }
            if (t != tsh || int64_t(acc.bucketSize(0)) * ntiles != presized) {
                throw std::runtime_error("internal: tile file sized for tile " + tsh.toString() +
                                         " but casacore uses " + t.toString());
            }
        }
        pc_limit_cache(img);
        // Mandatory log table (PagedImage::attach_logtable), linked as a table keyword.
        Table log = pc_make_logtable(name + "/logtable");
        {
            ScalarColumn<Double> time(log, "TIME");
            TableRecord &tkw = time.rwKeywordSet();
            tkw.define("UNIT", "s");
            tkw.define("MEASURE_TYPE", "EPOCH");
            tkw.define("MEASURE_REFERENCE", "UTC");
        }
        log.flush();
        img->table.rwKeywordSet().defineTable("logtable", log);
        // PagedImage::setTableType.
        TableInfo &info = img->table.tableInfo();
        info.setType(TableInfo::type(TableInfo::PAGEDIMAGE));
        info.setSubType(TableInfo::subType(TableInfo::PAGEDIMAGE));
        img->table.flushTableInfo();
        img->table.flush();
    }
    PC_CATCH(exc)
    if (exc->code != 0 && img != nullptr) {
        pc_image_discard(img);
        img = nullptr;
    }
    return img;
}

// Open an existing image table (any tiled storage manager) read-only (writable == 0) or for update.
PcImageTable *pc_image_open(const char *path, int writable, PcExc *exc) {
    PcImageTable *img = nullptr;
    PC_TRY(exc) {
        img = new PcImageTable;
        img->table = Table(String(path), writable ? Table::Update : Table::Old);
        if (img->table.nrow() < 1) {
            throw std::runtime_error("image table has no rows");
        }
        img->map.attach(img->table, "map");
        pc_check_stored_shape(img->table, "map", 8.0 * sizeof(Float));
        pc_limit_cache(img);
        // An image with pclean's default pixel mask (`mask0`): read it, or write it when resuming.
        const TableRecord &kw = img->table.keywordSet();
        String maskname = img->table.tableName() + "/mask0";
        if (kw.isDefined("Image_defaultmask") && kw.asString("Image_defaultmask") == "mask0" &&
            Table::isReadable(maskname)) {
            img->mask = Table(maskname, writable ? Table::Update : Table::Old);
            img->maskcol.attach(img->mask, "PagedArray");
            pc_check_stored_shape(img->mask, "PagedArray", 1.0);  // TSM stores Bools as bits
            pc_limit_cache(img->mask, "PagedArray", 1);
        }
    }
    PC_CATCH(exc)
    if (exc->code != 0 && img != nullptr) {
        pc_image_discard(img);
        img = nullptr;
    }
    return img;
}

// The pixel tile file of an image laid out as pc_image_create makes it, for reading and writing tiles
// without casacore's bucket cache: the TiledCellStMan "map" holding only the `map` column, one row
// (TiledCellStMan keeps one hypercube per row) whose hypercube is the cell, tiles spanning one plane
// or less ([tx, ty, 1, 1]), one bucket per tile of prod(tile) 4-byte floats, and a tile file of
// exactly nrTiles buckets (so the cube starts at offset 0; tile t at t * bucket, tiles and pixels in
// Fortran order). Returns 1 and fills the outputs when all of that holds, 0 otherwise (the caller
// then uses casacore's own I/O). The caller must not also access pixels through casacore on this
// handle.
int pc_image_tile_layout(PcImageTable *img, char *path_out, int64_t path_cap, int64_t *tile_out,
                         int64_t *bucket_out, int *big_endian_out, PcExc *exc) {
    int ok = 0;
    PC_TRY(exc) {
        DataManager *dm = img->table.findDataManager("map");
        IPosition shp = img->map.shape(0);
        if (dm->dataManagerType() == "TiledCellStMan" && dm->ncolumn() == 1 &&
            img->table.tableDesc().ncolumn() == 1 && shp.nelements() == 4) {
            ROTiledStManAccessor acc(img->table, "map");
            IPosition t = acc.tileShape(0);
            int64_t ntiles = 1;
            for (uInt i = 0; i < 4; i++) {
                ntiles *= (shp[i] + t[i] - 1) / t[i];
            }
            int64_t bucket = acc.bucketSize(0);
            String file = dm->fileName() + "_TSM0";
            struct stat st;
            if (img->table.nrow() == 1 && acc.hypercubeShape(0) == shp && t.nelements() == 4 &&
                t[2] == 1 && t[3] == 1 && bucket == t.product() * int64_t(sizeof(Float)) &&
                stat(file.c_str(), &st) == 0 && int64_t(st.st_size) == ntiles * bucket &&
                int64_t(file.size()) < path_cap) {
                std::memcpy(path_out, file.c_str(), file.size() + 1);
                for (uInt i = 0; i < 4; i++) {
                    tile_out[i] = t[i];
                }
                *bucket_out = bucket;
                *big_endian_out = img->table.endianFormat() == Table::BigEndian ? 1 : 0;
                ok = 1;
            }
        }
    }
    PC_CATCH(exc)
    return exc->code == 0 ? ok : 0;
}

// Shape of the pixel cell, Fortran order (x fastest). Returns the number of axes (<= 8) or -1.
int pc_image_shape(PcImageTable *img, int64_t *shape_out, PcExc *exc) {
    int ndim = -1;
    PC_TRY(exc) {
        IPosition shp = img->map.shape(0);
        if (shp.nelements() > 8) {
            throw std::runtime_error("image has more than 8 axes");
        }
        ndim = (int)shp.nelements();
        for (int i = 0; i < ndim; i++) {
            shape_out[i] = shp[i];
        }
    }
    PC_CATCH(exc)
    return exc->code == 0 ? ndim : -1;
}

// Write the box starting at `blc` with lengths `len` (4 axes, Fortran order) from `data`, which holds
// prod(len) floats with axis 0 fastest.
int pc_image_put_slice(PcImageTable *img, const int64_t *blc, const int64_t *len, const float *data,
                       PcExc *exc) {
    PC_TRY(exc) { pc_put_box(img->map, blc, len, data); }
    PC_CATCH(exc)
    return exc->code;
}

// Read the box starting at `blc` with lengths `len` into `data` (prod(len) floats, axis 0 fastest).
int pc_image_get_slice(PcImageTable *img, const int64_t *blc, const int64_t *len, float *data,
                       PcExc *exc) {
    PC_TRY(exc) { pc_get_box(img->map, blc, len, data); }
    PC_CATCH(exc)
    return exc->code;
}

// Give the image a default pixel mask, as PagedImage::makeMask + setDefaultMask do: a
// PagedArray<Bool> subtable `mask0` (column "PagedArray", hypercolumn, TiledCellStMan, one row; the
// cell the image's shape, tiled as the image) referenced from the `masks` keyword by an LCPagedMask
// region record, and `Image_defaultmask = "mask0"`. Every pixel starts masked (False) until its
// plane's mask is written. Sources mirrored: images/Images/PagedImage.tcc (makeMask,
// setDefaultMask), images/Regions/RegionHandlerTable.cc, lattices/LRegions/LCPagedMask.cc and
// LCBox.cc (toRecord), lattices/Lattices/PagedArray.tcc (makeArray).
int pc_image_make_mask(PcImageTable *img, const int64_t *tile, PcExc *exc) {
    PC_TRY(exc) {
        IPosition shp = img->map.shape(0);
        IPosition tsh = pc_ipos4(tile);
        String name = img->table.tableName() + "/mask0";
        TableDesc desc;
        desc.addColumn(ArrayColumnDesc<Bool>("PagedArray", "version 4.0", 4));
        Vector<String> datanames(1, "PagedArray");
        desc.defineHypercolumn("PagedArray", 4, datanames);
        SetupNewTable setup(name, desc, Table::New);
        TiledCellStMan stman("PagedArray", tsh);
        setup.bindAll(stman);
        img->mask = Table(setup, 1);
        img->maskcol.attach(img->mask, "PagedArray");
        img->maskcol.setShape(0, shp, tsh);
        pc_limit_cache(img->mask, "PagedArray", 1);
        TableInfo &info = img->mask.tableInfo();
        info.setType(TableInfo::type(TableInfo::PAGEDARRAY));
        info.setSubType(TableInfo::subType(TableInfo::PAGEDARRAY));
        img->mask.flushTableInfo();
        img->mask.flush();

        TableRecord box;
        box.define("isRegion", Int(1));  // RegionType::LC
        box.define("name", "LCBox");
        box.define("comment", "");
        box.define("oneRel", True);
        Vector<Float> blc(shp.nelements(), 1.0f), trc(shp.nelements());
        Vector<Int> lshape(shp.nelements());
        for (uInt i = 0; i < shp.nelements(); i++) {
            trc[i] = Float(shp[i]);
            lshape[i] = Int(shp[i]);
        }
        box.define("blc", blc);
        box.define("trc", trc);
        box.define("shape", lshape);
        TableRecord region;
        region.define("isRegion", Int(1));
        region.define("name", "LCPagedMask");
        region.define("comment", "");
        region.defineTable("mask", img->mask);
        region.defineRecord("box", box);
        TableRecord masks;
        masks.defineRecord("mask0", region);
        TableRecord &kw = img->table.rwKeywordSet();
        kw.defineRecord("masks", masks);
        kw.define("Image_defaultmask", "mask0");
        img->table.flush();
    }
    PC_CATCH(exc)
    return exc->code;
}

// Whether the image has a default pixel mask (made here, or pclean's `mask0` found on opening).
int pc_image_has_mask(PcImageTable *img) { return img->maskcol.isNull() ? 0 : 1; }

// Write the mask box starting at `blc` with lengths `len` from `data` (prod(len) bools, axis 0
// fastest; True = valid pixel, as casacore).
int pc_image_put_mask_slice(PcImageTable *img, const int64_t *blc, const int64_t *len,
                            const bool *data, PcExc *exc) {
    PC_TRY(exc) {
        if (img->maskcol.isNull()) {
            throw std::runtime_error("image has no pixel mask open for writing");
        }
        pc_put_box(img->maskcol, blc, len, data);
    }
    PC_CATCH(exc)
    return exc->code;
}

// Read the mask box starting at `blc` with lengths `len` into `data` (prod(len) bools, axis 0
// fastest; True = valid).
int pc_image_get_mask_slice(PcImageTable *img, const int64_t *blc, const int64_t *len, bool *data,
                            PcExc *exc) {
    PC_TRY(exc) {
        if (img->maskcol.isNull()) {
            throw std::runtime_error("image has no pixel mask");
        }
        pc_get_box(img->maskcol, blc, len, data);
    }
    PC_CATCH(exc)
    return exc->code;
}

// Flush data and metadata to disk.
int pc_image_flush(PcImageTable *img, PcExc *exc) {
    PC_TRY(exc) {
        pc_check_space(img->table.tableName());
        if (!img->mask.isNull()) {
            pc_check_space(img->mask.tableName());
            img->mask.flush();
        }
        img->table.flush();
    }
    PC_CATCH(exc)
    return exc->code;
}

// Close (flushing when writable) and free the handle.
//
// casacore writes a writable table's files again in its destructor (PlainTable::closeObject ->
// TableLockData::release -> putFile(always), table.dat rewritten through a temporary file even
// when nothing changed); when that write fails (ENOSPC on a full disk), the exception leaves a
// destructor and the process terminates (SIGABRT). So the handle's tables (the image, `mask0`,
// `logtable`: every table at or below its path open in this process) are written in full here,
// where a failure is an ordinary exception, and then told not to write again
// (BaseTable::doNotWrite, which casacore provides "in case of exceptions") before they are
// deleted: after a successful write there is nothing left to write; after a failed one the files
// stay as the failed write left them, and pclean's checkpoint never names a plane whose write did
// not complete, so a rerun rewrites them. pclean has one writer per product, so no other handle
// of the same table writes after this one closes.
int pc_image_close(PcImageTable *img, PcExc *exc) {
    PC_TRY(exc) {
        std::string root = img->table.tableName();
        bool writable = img->table.isWritable();
        try {
            if (writable) pc_tables_write_all(root);
        } catch (...) {
            pc_image_discard(img);
            throw;
        }
        if (writable) pc_tables_do_not_write(root);
        delete img;
    }
    PC_CATCH(exc)
    return exc->code;
}

}  // extern "C"

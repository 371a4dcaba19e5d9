// ABI version of the glue, checked by the Rust side in tests.
#include "glue_common.h"

#include <casacore/casa/Arrays/Vector.h>
#include <casacore/tables/Tables/PlainTable.h>
#include <casacore/tables/Tables/TableCache.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

extern "C" int pc_glue_abi_version() { return 1; }

// The tables at `root` or below it that are open in this process (casacore's table cache).
static std::vector<casacore::PlainTable *> pc_tables_below(const std::string &root) {
    std::vector<casacore::PlainTable *> out;
    casacore::TableCache &cache = casacore::PlainTable::tableCache();
    casacore::Vector<casacore::String> names = cache.getTableNames();
    for (const casacore::String &name : names) {
        bool below = name.size() > root.size() && name.compare(0, root.size(), root) == 0 &&
                     name[root.size()] == '/';
        if (name == root || below) {
            if (casacore::PlainTable *t = cache(name)) out.push_back(t);
        }
    }
    return out;
}

// casacore writes table.dat and a storage manager's header (table.f0) through AipsIO, whose file
// is flushed by the destructor of its buffer (RegularFileIO -> FilebufIO::detach): a write error
// there (ENOSPC) leaves a destructor and terminates the process, wherever the write was started.
// So before casacore rewrites those files, the free space of their filesystem is checked against
// their present size (a rewrite is about as long; table.dat goes through table.dat_tmp, so twice)
// plus a margin, and a shortfall is an ordinary error naming both numbers.
void pc_check_space(const std::string &dir, double extra_bytes) {
    double need = 64.0 * 1024.0 + extra_bytes;
    // The files rewritten through AipsIO: table.dat, table.info and the headers of the tiled
    // storage managers (table.fN with table.fN_TSM* data files beside them). The data files of
    // the bucket-based managers (StandardStMan, IncrementalStMan: a table.fN without _TSM files,
    // most of an MS) are updated in place and not counted.
    std::vector<std::string> names;
    if (DIR *d = opendir(dir.c_str())) {
        while (struct dirent *e = readdir(d)) names.emplace_back(e->d_name);
        closedir(d);
    }
    for (const std::string &n : names) {
        if (n.compare(0, 6, "table.") != 0 || n.find("_TSM") != std::string::npos) continue;
        bool tiled_header = false;
        for (const std::string &m : names) {
            if (m.size() > n.size() + 4 && m.compare(0, n.size() + 4, n + "_TSM") == 0) {
                tiled_header = true;
            }
        }
        struct stat st;
        if ((n == "table.dat" || n == "table.info" || tiled_header) &&
            stat((dir + "/" + n).c_str(), &st) == 0) {
            need += 2.0 * double(st.st_size);
        }
    }
    struct statvfs fs;
    if (statvfs(dir.c_str(), &fs) != 0) return;  // cannot tell: let casacore try
    double avail = double(fs.f_bavail) * double(fs.f_frsize);
    if (avail < need) {
        throw std::runtime_error("No space left on device: " + std::to_string(int64_t(avail)) +
                                 " bytes free on the filesystem of " + dir +
                                 ", writing its table files needs about " +
                                 std::to_string(int64_t(need)) +
                                 "; free some space and rerun the same command to resume");
    }
}

void pc_tables_write_all(const std::string &root) {
    std::vector<casacore::PlainTable *> tables = pc_tables_below(root);
    for (casacore::PlainTable *t : tables) {
        if (t->isWritable()) pc_check_space(t->tableName());
    }
    for (casacore::PlainTable *t : tables) {
        if (t->isWritable()) {
            // What the destructor would write (PlainTable::putFile(always)): table.dat in full
            // (setTableChanged) and every data manager's data.
            t->setTableChanged();
            t->flush(casacore::False, casacore::False);
        }
    }
}

void pc_tables_do_not_write(const std::string &root) noexcept {
    try {
        for (casacore::PlainTable *t : pc_tables_below(root)) t->doNotWrite();
    } catch (...) {
        // Listing the cache allocates; nothing more can be done if that fails.
    }
}

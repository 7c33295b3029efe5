"""Deli Serdang Mall demo data: 34 shops across the kecamatan, about 310 products with drawn
placeholder photos, shops in every verification state, and reported listings.

Everything goes through the services sellers and admins use (open, submit, verify, suspend;
save, publish, add a photo; report, resolve), so statuses, badges, the search index and the
stored WebP photos are real. Photos are drawn with Pillow (no network): a colour per category,
a shape and the product's initials. Dates are then spread over the past weeks (demo data only).
A shop that already exists is left alone, so running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.core.time import today_wib, utcnow
from portal.core.uploads import ALLOWED_PHOTO_KINDS, CheckedUpload, check_upload
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.mall import services
from portal.mall.models import (
    Availability,
    MallCategory,
    PriceKind,
    Product,
    ProductStat,
    ProductStatus,
    ReportReason,
    ReportStatus,
    Shop,
    ShopStatus,
)
from portal.wilayah.models import Desa

PHOTO_SIZE = (480, 360)
LOGO_SIZE = 240
PRODUCTS_PER_SHOP = 9

# A price: an int (fixed), (low, high) (a range), or None ("ask the seller").
Price = int | tuple[int, int] | None


@dataclass(frozen=True)
class Item:
    name: str
    unit: str
    price: Price
    description: str
    min_order: int = 1
    preorder: bool = False
    ships_far: bool = True  # keeps well enough to send across Indonesia


# name, unit, price (int fixed, (low, high) range, None ask), description, flags:
# "pre" pre-order only, "near" does not ship across Indonesia, "minN" minimum order N.
_CATALOGUE: dict[str, list[tuple[Any, ...]]] = {
    "kuliner": [
        ("Keripik Pisang Manis", "pack", 15_000,
         "Pisang kepok pilihan, digoreng tipis dan renyah. Isi 250 g."),
        ("Keripik Ubi Balado", "pack", 12_000,
         "Ubi kayu iris tipis dengan bumbu balado pedas manis. Isi 250 g."),
        ("Keripik Tempe Sagu", "pack", 10_000,
         "Tempe tipis berbalut tepung sagu, gurih tanpa pengawet."),
        ("Rempeyek Kacang Tanah", "pack", 15_000,
         "Rempeyek renyah dengan kacang tanah melimpah. Isi 200 g."),
        ("Kerupuk Jengkol", "pack", 20_000,
         "Kerupuk jengkol khas rumahan, tinggal goreng."),
        ("Opak Singkong Bakar", "pack", 10_000,
         "Opak singkong dibakar di atas bara, isi 10 lembar."),
        ("Dodol Durian Galang", "box", 45_000,
         "Dodol dari durian lokal Galang, legit dan wangi. Isi 500 g."),
        ("Dodol Ketan Hitam", "box", 35_000,
         "Dodol ketan hitam dimasak 8 jam di kuali tembaga."),
        ("Bika Ambon Pandan", "box", 85_000,
         "Bika ambon berserat cantik dengan daun pandan asli.", "pre near"),
        ("Bolu Gulung Keju", "box", 70_000,
         "Bolu gulung lembut dengan selai dan parutan keju.", "near"),
        ("Lapis Legit Prunes", "box", (150_000, 250_000),
         "Lapis legit 18 lapis dengan buah prune. Ukuran 10x10 dan 20x20 cm.", "pre"),
        ("Kue Bawang Renyah", "pack", 18_000,
         "Kue bawang gurih, cocok untuk teman minum teh."),
        ("Kue Kacang Lebaran", "box", 55_000,
         "Kue kacang lumer di mulut, toples 500 g."),
        ("Nastar Nanas Premium", "box", 95_000,
         "Nastar dengan selai nanas homemade, toples 500 g."),
        ("Lemang Ketan Bambu", "pcs", 25_000,
         "Lemang ketan santan dibakar dalam bambu, satu batang.", "near"),
        ("Lepat Pisang", "pcs", 3_000,
         "Lepat pisang dibungkus daun pisang, pesan minimal 10.", "near min10"),
        ("Teri Medan Kering", "pack", 45_000,
         "Teri nasi Medan kering tawar, bersih tanpa pasir. Isi 250 g."),
        ("Ikan Asin Gulama", "kg", 85_000,
         "Ikan asin gulama dari nelayan Pantai Labu, dijemur sendiri."),
        ("Sambal Andaliman", "botol", 35_000,
         "Sambal andaliman segar khas Batak, botol 200 ml."),
        ("Sambal Teri Kacang", "botol", 30_000,
         "Sambal teri kacang tahan dua minggu, botol 200 g."),
        ("Rendang Daging Sapi", "pack", 75_000,
         "Rendang kering dimasak 6 jam, kemasan vakum 250 g."),
        ("Abon Ikan Tongkol", "pack", 40_000,
         "Abon ikan tongkol pedas gurih, 200 g."),
        ("Kopi Bubuk Robusta Sibolangit", "pack", 30_000,
         "Robusta dataran tinggi Sibolangit, sangrai medium. 250 g."),
        ("Kopi Arabika Biji Sangrai", "pack", 65_000,
         "Arabika petani Sinembah, sangrai light-medium. 250 g."),
        ("Gula Aren Cetak", "kg", 28_000,
         "Gula aren murni dari nira pohon aren, tanpa campuran."),
        ("Teh Serai Jahe Celup", "box", 20_000,
         "Teh herbal serai dan jahe merah, isi 20 kantong."),
        ("Sirup Markisa", "botol", 40_000,
         "Sirup markisa asli, botol 620 ml."),
        ("Nasi Kotak Ayam Bakar", "porsi", (25_000, 35_000),
         "Nasi, ayam bakar, lalapan, sambal dan buah. Untuk acara kantor dan pengajian. "
         "", "pre near min20"),
        ("Tumpeng Mini", "porsi", None,
         "Tumpeng mini untuk syukuran, lauk bisa dipilih. Harga sesuai lauk.", "pre near"),
        ("Kue Basah Campur", "box", 50_000,
         "Isi 25 kue basah: lapis, onde-onde, risol, dadar gulung.", "pre near"),
        ("Bakpia Kacang Hijau", "box", 30_000,
         "Bakpia isi kacang hijau, isi 15."),
        ("Mie Lidi Pedas", "pack", 8_000,
         "Camilan mie lidi pedas daun jeruk."),
        ("Pisang Sale", "pack", 20_000,
         "Pisang sale kering manis alami tanpa gula tambahan."),
        ("Roti Jala dan Kari Ayam", "porsi", 25_000,
         "Roti jala lembut dengan kari ayam khas Melayu Deli.", "near"),
        ("Dimsum Ayam Beku", "pack", 35_000,
         "Dimsum ayam isi 12, beku, tinggal kukus.", "near"),
        ("Bumbu Rendang Instan", "pack", 15_000,
         "Bumbu rendang siap masak untuk 1 kg daging."),
    ],
    "fesyen": [
        ("Ulos Ragi Hotang", "pcs", (350_000, 750_000),
         "Ulos ragi hotang tenun tangan, ukuran 200x80 cm."),
        ("Ulos Sadum", "pcs", (250_000, 500_000),
         "Ulos sadum warna cerah, cocok untuk selendang pesta."),
        ("Songket Melayu Deli Benang Emas", "set", (1_500_000, 3_500_000),
         "Kain dan selendang songket benang emas, ditenun 3 minggu.", "pre"),
        ("Kain Tenun Karo Uis Nipes", "pcs", 450_000,
         "Uis nipes tenun Karo, warna merah marun."),
        ("Selendang Songket", "pcs", 275_000,
         "Selendang songket motif pucuk rebung."),
        ("Kemeja Batik Motif Tembakau Deli", "pcs", 185_000,
         "Batik cap motif daun tembakau Deli, katun primisima. M, L, XL."),
        ("Kain Batik Tulis Deli Serdang", "pcs", (300_000, 650_000),
         "Batik tulis pewarna alam, 2 meter."),
        ("Baju Kurung Melayu Anak", "pcs", 150_000,
         "Baju kurung anak 3 sampai 10 tahun, bahan satin."),
        ("Kebaya Kutu Baru", "pcs", 225_000,
         "Kebaya kutu baru brokat dengan furing, S sampai XXL."),
        ("Peci Songket", "pcs", 85_000,
         "Peci berlapis songket untuk acara adat."),
        ("Tengkuluk Songket", "pcs", 120_000,
         "Tengkuluk songket siap pakai untuk pengantin dan tari."),
        ("Gamis Katun Rayon", "pcs", 135_000,
         "Gamis adem dengan saku, ukuran all size."),
        ("Mukena Katun Bordir", "set", 175_000,
         "Mukena katun dengan bordir tangan, tas serut."),
        ("Kaos Sablon Deli Serdang", "pcs", 75_000,
         "Kaos katun combed 30s, sablon plastisol."),
        ("Sarung Tenun Pucuk Rebung", "pcs", 210_000,
         "Sarung tenun motif pucuk rebung."),
        ("Jilbab Segi Empat Voal", "pcs", 45_000,
         "Jilbab voal motif songket, 115x115 cm."),
        ("Sandal Kulit Pria", "pcs", 120_000,
         "Sandal kulit sapi asli, jahit tangan. Ukuran 39-44."),
        ("Dompet Kulit Aksen Ulos", "pcs", 95_000,
         "Dompet kulit dengan aksen kain ulos."),
        ("Tas Selempang Ulos", "pcs", 165_000,
         "Tas selempang kanvas dengan panel ulos."),
        ("Masker Kain Motif Songket", "pcs", 15_000,
         "Masker kain 3 lapis motif songket.", "min5"),
    ],
    "kriya": [
        ("Tas Anyaman Pandan", "pcs", 85_000,
         "Tas anyaman daun pandan, dianyam ibu-ibu Pantai Labu."),
        ("Tikar Pandan Motif", "pcs", 150_000,
         "Tikar pandan bermotif, 180x120 cm."),
        ("Keranjang Rotan Serbaguna", "pcs", 65_000,
         "Keranjang rotan dengan tutup, diameter 30 cm."),
        ("Tudung Saji Anyaman Bambu", "pcs", 55_000,
         "Tudung saji bambu dicat motif bunga."),
        ("Miniatur Rumah Adat Karo", "pcs", (250_000, 600_000),
         "Miniatur siwaluh jabu dari kayu, tiga ukuran.", "pre"),
        ("Gantungan Kunci Gorga", "pcs", 10_000,
         "Gantungan kunci kayu berukir gorga, minimal 10.", "min10"),
        ("Ukiran Kayu Gorga", "pcs", None,
         "Ukiran gorga pesanan untuk dinding atau pintu. Harga sesuai ukuran.", "pre"),
        ("Bros Manik-Manik", "pcs", 25_000,
         "Bros manik-manik buatan tangan, warna bisa dipilih."),
        ("Kalung Manik Etnik", "pcs", 45_000,
         "Kalung manik kaca motif etnik."),
        ("Topi Pandan Lebar", "pcs", 40_000,
         "Topi pandan lebar untuk ke kebun atau ke pantai."),
        ("Bakul Nasi Bambu", "pcs", 30_000,
         "Bakul nasi anyaman bambu dengan alas."),
        ("Vas Gerabah Lukis", "pcs", 75_000,
         "Vas gerabah dilukis tangan, tinggi 30 cm.", "near"),
        ("Kipas Songket Pengantin", "pcs", 60_000,
         "Kipas dengan kain songket untuk pengantin dan tari."),
        ("Tempat Pensil Motif Ulos", "pcs", 12_000,
         "Suvenir tempat pensil kain ulos, minimal 20.", "min20"),
        ("Kotak Tisu Anyaman", "pcs", 45_000,
         "Kotak tisu anyaman pandan."),
        ("Lukisan Pasir Pemandangan", "pcs", (200_000, 450_000),
         "Lukisan pasir warna alami, berbingkai."),
        ("Tas Rajut Benang Nilon", "pcs", 95_000,
         "Tas rajut tangan benang nilon, kuat untuk belanja."),
        ("Tempat Sirih Tembaga", "pcs", 175_000,
         "Tepak sirih tembaga untuk adat Melayu."),
        ("Cobek Batu Asli", "pcs", 50_000,
         "Cobek dan ulekan batu kali, diameter 20 cm.", "near"),
    ],
    "pertanian": [
        ("Beras Pandan Wangi Lokal", "kg", 15_000,
         "Beras petani Bangun Purba, pulen dan wangi. Minimal 5 kg.", "near min5"),
        ("Beras Merah Organik", "kg", 22_000,
         "Beras merah tanpa pestisida kimia.", "near"),
        ("Cabai Merah Keriting", "kg", (35_000, 60_000),
         "Cabai segar dipetik pagi hari. Harga mengikuti pasar.", "near"),
        ("Bawang Merah Lokal", "kg", 40_000,
         "Bawang merah kering simpan.", "near"),
        ("Jagung Manis", "kg", 9_000,
         "Jagung manis segar dari kebun.", "near"),
        ("Jeruk Siam Madu", "kg", 25_000,
         "Jeruk manis segar, panen langsung.", "near"),
        ("Durian Lokal Sibolangit", "pcs", (40_000, 120_000),
         "Durian lokal, harga sesuai ukuran. Musim Juni sampai Agustus.", "pre near"),
        ("Rambutan Binjai", "kg", 15_000,
         "Rambutan binjai manis dan ngelotok.", "near"),
        ("Pisang Barangan", "kg", 20_000,
         "Pisang barangan matang pohon.", "near"),
        ("Telur Ayam Kampung", "lusin", 30_000,
         "Telur ayam kampung dari kandang sendiri.", "near"),
        ("Telur Bebek Asin", "pcs", 4_500,
         "Telur asin masir, direbus dan siap makan. Minimal 10.", "near min10"),
        ("Ayam Kampung Hidup", "kg", 65_000,
         "Ayam kampung umur 4 bulan, bobot 1 sampai 1,5 kg.", "near"),
        ("Ikan Lele Segar", "kg", 25_000,
         "Lele kolam terpal, isi 6 sampai 8 ekor per kg.", "near"),
        ("Ikan Nila Segar", "kg", 32_000,
         "Nila keramba, bisa dibersihkan.", "near"),
        ("Udang Vaname Tambak", "kg", (75_000, 110_000),
         "Udang vaname tambak Percut, harga sesuai ukuran.", "near"),
        ("Kepiting Bakau Pantai Labu", "kg", None,
         "Kepiting bakau hidup, harga mengikuti ukuran dan musim.", "near"),
        ("Bibit Cabai Rawit", "pcs", 2_500,
         "Bibit dalam polybag, siap tanam. Minimal 20.", "near min20"),
        ("Bibit Durian Musang King", "pcs", 85_000,
         "Bibit sambung pucuk tinggi 60 cm."),
        ("Pupuk Kompos Organik", "kg", 3_000,
         "Kompos dari kotoran sapi dan daun, minimal 10 kg.", "near min10"),
        ("Jamur Tiram Segar", "kg", 20_000,
         "Jamur tiram dipanen setiap pagi.", "near"),
        ("Sayur Pakcoy Hidroponik", "pack", 8_000,
         "Pakcoy hidroponik bebas pestisida, 250 g.", "near"),
        ("Daging Kambing Segar", "kg", 140_000,
         "Daging kambing potong sendiri, untuk aqiqah bisa pesan.", "near"),
    ],
    "herbal": [
        ("Jamu Kunyit Asam", "botol", 10_000,
         "Jamu kunyit asam segar, botol 250 ml. Simpan di kulkas.", "near"),
        ("Jamu Beras Kencur", "botol", 10_000,
         "Jamu beras kencur segar, botol 250 ml.", "near"),
        ("Wedang Jahe Merah Instan", "pack", 25_000,
         "Serbuk jahe merah dan gula aren, isi 10 sachet."),
        ("Minyak Kelapa Murni (VCO)", "botol", 45_000,
         "VCO proses dingin, botol 250 ml."),
        ("Minyak Urut Sereh", "botol", 30_000,
         "Minyak urut sereh dan cengkih, botol 60 ml."),
        ("Sabun Sereh Wangi", "pcs", 15_000,
         "Sabun mandi cold process dengan minyak sereh wangi."),
        ("Sabun Susu Kambing", "pcs", 18_000,
         "Sabun susu kambing etawa untuk kulit kering."),
        ("Lulur Bengkoang", "pack", 35_000,
         "Lulur bengkoang dan beras, 200 g."),
        ("Masker Wajah Temulawak", "pack", 25_000,
         "Masker bubuk temulawak dan beras, 100 g."),
        ("Teh Daun Kelor", "pack", 30_000,
         "Daun kelor kering pilihan, 50 g."),
        ("Serbuk Temulawak", "pack", 28_000,
         "Temulawak bubuk murni, 250 g."),
        ("Minyak Kemiri Rambut", "botol", 35_000,
         "Minyak kemiri sangrai untuk rambut, 100 ml."),
        ("Balsem Daun Mint", "pcs", 20_000,
         "Balsem lembut aroma mint, 20 g."),
        ("Lilin Aromaterapi Serai", "pcs", 40_000,
         "Lilin kedelai dengan minyak serai, 150 g."),
        ("Madu Kelulut", "botol", (120_000, 180_000),
         "Madu kelulut asam manis, botol 250 dan 500 ml."),
        ("Tapel Bayi Herbal", "pack", 15_000,
         "Tapel bayi dari rempah, isi 10."),
        ("Param Kocok", "botol", 20_000,
         "Param kocok untuk pegal setelah bekerja, 100 ml."),
    ],
    "dekorasi": [
        ("Kursi Rotan Teras", "pcs", (450_000, 850_000),
         "Kursi rotan sintetis untuk teras, dua model.", "near"),
        ("Meja Kopi Kayu Jati Belanda", "pcs", 650_000,
         "Meja kopi dari kayu jati belanda bekas peti, 80x50 cm.", "near"),
        ("Rak Dinding Kayu Pinus", "pcs", 175_000,
         "Rak dinding tiga susun, finishing natural."),
        ("Lampu Hias Anyaman Bambu", "pcs", 150_000,
         "Kap lampu gantung anyaman bambu, diameter 40 cm."),
        ("Bingkai Foto Ukir", "pcs", 85_000,
         "Bingkai foto kayu berukir ukuran 10R."),
        ("Hiasan Dinding Motif Gorga", "pcs", 250_000,
         "Panel dinding kayu dengan ukiran gorga berwarna."),
        ("Taplak Meja Songket", "pcs", 135_000,
         "Taplak meja makan motif songket, 150x90 cm."),
        ("Sarung Bantal Tenun", "pcs", 65_000,
         "Sarung bantal kursi kain tenun, 40x40 cm.", "min2"),
        ("Bunga Hias Kain Flanel", "pcs", 35_000,
         "Rangkaian bunga flanel dalam pot kecil."),
        ("Lemari Pakaian 2 Pintu", "pcs", None,
         "Lemari kayu mahoni sesuai pesanan. Harga sesuai ukuran dan kayu.", "pre near"),
        ("Keset Sabut Kelapa", "pcs", 35_000,
         "Keset dari sabut kelapa, 60x40 cm."),
        ("Pot Semen Minimalis", "pcs", 45_000,
         "Pot semen cetak tangan, diameter 20 cm.", "near"),
        ("Tirai Bambu Gulung", "meter", 60_000,
         "Tirai bambu gulung per meter lebar, tinggi 2 m."),
        ("Jam Dinding Kayu Ukir", "pcs", 175_000,
         "Jam dinding kayu dengan ukiran Melayu."),
        ("Meja Makan Mahoni 4 Kursi", "set", (2_500_000, 4_000_000),
         "Satu meja dan empat kursi kayu mahoni.", "pre near"),
        ("Karpet Anyaman Mendong", "pcs", 225_000,
         "Karpet mendong 160x210 cm."),
    ],
    "jasa": [
        ("Jahit Kebaya Sesuai Pesanan", "set", (350_000, 1_200_000),
         "Jahit kebaya dan rok dari kain Anda atau kain kami. Selesai 2 sampai 3 minggu.", "pre"),
        ("Permak Celana dan Baju", "pcs", 20_000,
         "Potong, kecilkan, ganti resleting. Bisa ditunggu."),
        ("Servis AC Rumah", "pcs", 85_000,
         "Cuci AC split per unit, termasuk cek freon."),
        ("Cuci Sofa Panggilan", "set", (150_000, 400_000),
         "Cuci sofa di rumah, harga sesuai jumlah dudukan."),
        ("Katering Rantangan Harian", "porsi", 25_000,
         "Menu rumahan berganti setiap hari, antar siang.", "min5"),
        ("Sewa Tenda dan Kursi Pesta", "set", None,
         "Tenda, kursi dan dekorasi pesta. Harga sesuai jumlah tamu."),
        ("Rias Pengantin Adat Melayu", "set", None,
         "Rias dan busana pengantin adat Melayu Deli. Konsultasi gratis."),
        ("Fotografi Acara", "set", (750_000, 2_500_000),
         "Dokumentasi foto acara keluarga dan kantor."),
        ("Les Privat Matematika SD", "pcs", 50_000,
         "Les ke rumah per pertemuan 90 menit."),
        ("Sablon Kaos Satuan", "pcs", 45_000,
         "Sablon DTF satuan, desain dari Anda."),
        ("Cetak Undangan Pernikahan", "pcs", 3_500,
         "Undangan hardcover dengan plastik dan label. Minimal 100.", "min100"),
        ("Laundry Kiloan", "kg", 7_000,
         "Cuci, kering, setrika. Selesai 2 hari. Minimal 3 kg.", "min3"),
        ("Servis Mesin Cuci", "pcs", None,
         "Servis mesin cuci ke rumah; biaya tergantung kerusakan."),
        ("Pangkas Rambut Panggilan", "pcs", 30_000,
         "Pangkas rambut di rumah, untuk lansia dan anak."),
        ("Desain Logo UMKM", "pcs", 250_000,
         "Logo dan kemasan sederhana, tiga kali revisi."),
    ],
}  # fmt: skip


def _item(row: tuple[Any, ...]) -> Item:
    name, unit, price, description, *rest = row
    flags = rest[0].split() if rest else []
    minimum = next((int(f[3:]) for f in flags if f.startswith("min")), 1)
    return Item(name, unit, price, description, minimum, "pre" in flags, "near" not in flags)


CATALOGUE: dict[str, list[Item]] = {
    slug: [_item(row) for row in rows] for slug, rows in _CATALOGUE.items()
}

# A colour per category for the drawn photos.
COLOURS = {
    "kuliner": (196, 92, 38),
    "fesyen": (132, 46, 90),
    "kriya": (139, 101, 48),
    "pertanian": (46, 125, 50),
    "herbal": (84, 110, 40),
    "dekorasi": (52, 86, 140),
    "jasa": (70, 70, 110),
}


@dataclass(frozen=True)
class ShopSpec:
    name: str
    owner: str
    category: str
    desa: str
    street: str
    status: ShopStatus = ShopStatus.VERIFIED
    legality: str = "nib"
    hours: str = "Senin-Sabtu 08.00-17.00"
    description: str = ""
    extra: list[Item] = field(default_factory=list)


V, S, C, D, X = (ShopStatus.VERIFIED, ShopStatus.SUBMITTED, ShopStatus.CHANGES_REQUESTED,
                 ShopStatus.DRAFT, ShopStatus.SUSPENDED)  # fmt: skip

# The listing reported to the moderators (open), and one they have already hidden.
REPORTED_ITEM = Item(
    "Kapsul Daun Sirsak", "botol", 60_000, "Serbuk daun sirsak dalam kapsul, isi 60."
)
REPORT_DETAIL = "Di WhatsApp penjual bilang kapsul ini bisa menyembuhkan kanker dan diabetes."
BLOCKED_ITEM = Item(
    "Jamu Kuat Kapsul Tanpa Merek", "botol", 50_000, "Kapsul jamu kuat, reaksi cepat."
)
BLOCKED_NOTE = (
    "Jamu dalam bentuk kapsul wajib punya nomor izin edar BPOM (TR). Lengkapi izin edarnya, "
    "lalu hubungi admin untuk membuka kembali produk ini."
)

SELLER_SHOP = ShopSpec(
    "Dapur Rudi Siregar", "Rudi Penjual Siregar", "kuliner", "12.07.02.2001",
    "Jl. Medan-Lubuk Pakam Km 17", V, "food_full", "Setiap hari 07.00-20.00",
    "Kue dan camilan rumahan dari Tanjung Morawa sejak 2015. Pesanan acara dilayani.",
)  # fmt: skip

# 33 shops of other sellers (umkm01@demo.test ...), across 21 kecamatan.
DEMO_SHOPS: list[ShopSpec] = [
    ShopSpec("Dodol Galang Mak Ijah", "Siti Khadijah", "kuliner", "12.07.19.1038",
             "Jl. Pasar Galang No. 14", V, "food_full"),
    ShopSpec("Keripik Sehati Lubuk Pakam", "Nurhayati Lubis", "kuliner", "12.07.28.1008",
             "Jl. Sudirman Gg. Keluarga No. 3", V, "food_pirt"),
    ShopSpec("Rempeyek Bu Sri", "Sri Wahyuni", "kuliner", "12.07.26.2001",
             "Jl. Pendidikan Dusun IV", V, "food_old_pirt"),
    ShopSpec("Bika Ambon Kak Ros", "Rosmawati Sitompul", "kuliner", "12.07.22.1004",
             "Jl. Besar Deli Tua No. 88", V, "food_full"),
    ShopSpec("Teri Medan Pantai Labu", "Ahmad Yani Nasution", "kuliner", "12.07.32.2003",
             "Dusun II Bagan Serdang", V, "food_bpom"),
    ShopSpec("Kopi Sibolangit Jaya", "Benny Ginting", "kuliner", "12.07.03.2001",
             "Jl. Jamin Ginting Km 45", V, "food_bpom"),
    ShopSpec("Sambal Andaliman Ompung", "Rotua Simanjuntak", "kuliner", "12.07.23.2004",
             "Jl. Paya Geli Gg. Rukun", V, "food_pirt"),
    ShopSpec("Katering Berkah Percut", "Hj. Maimunah", "kuliner", "12.07.26.1019",
             "Jl. Kenangan Baru No. 21", S, "food_full"),
    ShopSpec("Kue Lebaran Kak Yuli", "Yuliana Harahap", "kuliner", "12.07.33.2004",
             "Jl. Bandara Kualanamu Dusun III", C, "none"),
    ShopSpec("Lemang Batang Kuis", "Zulkifli Rangkuti", "kuliner", "12.07.27.2001",
             "Jl. Batang Kuis-Pantai Labu Km 2", D, "none"),
    ShopSpec("Ulos Ragi Hotang Ompu Nai", "Tiurma Sinaga", "fesyen", "12.07.24.2001",
             "Jl. Titi Payung Dusun V", V, "nib"),
    ShopSpec("Songket Deli Warisan", "Tengku Syarifah", "fesyen", "12.07.28.1009",
             "Jl. Tengku Raja Muda No. 5", V, "nib"),
    ShopSpec("Uis Karo Namo Rambe", "Ersada Tarigan", "fesyen", "12.07.06.2003",
             "Desa Namo Rambe Gg. Lau Simomo", V, "none"),
    ShopSpec("Batik Tembakau Deli", "Dewi Anggraini", "fesyen", "12.07.02.1026",
             "Jl. Sultan Serdang No. 30", V, "nib"),
    ShopSpec("Busana Muslimah Aisyah", "Aisyah Pohan", "fesyen", "12.07.25.2001",
             "Jl. Helvetia Dusun VII", X, "nib"),
    ShopSpec("Anyaman Pandan Pantai Labu", "Kelompok Wanita Tani Melati", "kriya", "12.07.32.2001",
             "Dusun III Sei Tuan", V, "none"),
    ShopSpec("Rotan Sunggal Craft", "Darwin Sembiring", "kriya", "12.07.23.2001",
             "Jl. Sei Semayang Gg. Rotan", V, "nib"),
    ShopSpec("Gorga Ukir Patumbak", "Janter Situmorang", "kriya", "12.07.21.2002",
             "Jl. Patumbak Kampung No. 9", V, "nib"),
    ShopSpec("Manik Etnik Sibiru-biru", "Lestari Br Sitepu", "kriya", "12.07.07.2002",
             "Desa Biru-biru Dusun I", S, "none"),
    ShopSpec("Bambu Kreatif Kutalimbaru", "Sahat Manurung", "kriya", "12.07.04.2001",
             "Desa Suka Makmur Dusun II", V, "nib"),
    ShopSpec("Tani Makmur Bangun Purba", "Paino", "pertanian", "12.07.09.2001",
             "Dusun IV Bah Perak", V, "nib"),
    ShopSpec("Kebun Buah Gunung Meriah", "Rasmin Purba", "pertanian", "12.07.01.2001",
             "Desa Kuta Bayu", V, "none"),
    ShopSpec("Tambak Udang Percut", "Hendrawan Saragih", "pertanian", "12.07.26.2002",
             "Dusun XII Sambirejo Timur", V, "nib"),
    ShopSpec("Ternak Ayam Kampung STM Hilir", "Sukardi", "pertanian", "12.07.08.2001",
             "Desa Talun Kenas", V, "none"),
    ShopSpec("Sayur Hidroponik Pagar Merbau", "Putri Ramadhani", "pertanian", "12.07.31.2002",
             "Desa Purwodadi Dusun I", S, "nib"),
    ShopSpec("Jamu Gendong Mbok Sarni", "Sarni", "herbal", "12.07.31.2001",
             "Desa Tanjung Mulia Dusun II", V, "herbal", extra=[BLOCKED_ITEM]),
    ShopSpec("VCO Kelapa Hamparan Perak", "Rahmat Hidayat", "herbal", "12.07.24.2003",
             "Desa Klumpang Kebun", V, "food_bpom"),
    ShopSpec("Sabun Alami Pancur Batu", "Debora Br Ginting", "herbal", "12.07.05.2001",
             "Jl. Jamin Ginting Km 17", V, "cosmetic"),
    ShopSpec("Madu Kelulut Sinembah", "Rudi Hartono Sembiring", "herbal", "12.07.20.2001",
             "Desa Tiga Juhar", V, "herbal", extra=[REPORTED_ITEM]),
    ShopSpec("Mebel Jati Belanda Beringin", "Irwansyah", "dekorasi", "12.07.33.2001",
             "Jl. Serdang Dusun I", V, "nib"),
    ShopSpec("Dekor Tenun Tanjung Morawa", "Fitriani Siregar", "dekorasi", "12.07.02.2003",
             "Desa Limau Manis Gg. Damai", V, "nib"),
    ShopSpec("Jahit dan Rias Kak Butet", "Butet Manalu", "jasa", "12.07.22.1005",
             "Jl. Deli Tua Timur No. 12", V, "nib"),
    ShopSpec("Bengkel Elektronik Labuhan", "Agus Salim", "jasa", "12.07.25.2002",
             "Desa Manunggal Gg. Bersama", V, "none"),
]  # fmt: skip


def seed_mall_demo(seller: User, admin: User) -> None:
    """Create what is missing: categories, the demo seller's verified shop with products, the
    other sellers' accounts and shops, and the reported listings. Flushes, never commits; the
    caller discards queued mail."""
    services.seed_categories()
    categories = {c.slug: c for c in db.session.scalars(select(MallCategory))}
    fonts = _Fonts()
    rng = random.Random(2026)  # noqa: S311 - demo data, the same every time
    now = utcnow()
    for index, spec in enumerate([SELLER_SHOP, *DEMO_SHOPS]):
        owner = seller if index == 0 else _owner(index, spec)
        if services.shop_of(owner) is not None:
            continue
        count = 12 if index == 0 else PRODUCTS_PER_SHOP
        shop = _shop(index, spec, owner, categories, fonts)
        products = _products(shop, owner, spec, categories[spec.category], count, rng, fonts)
        _move(shop, owner, spec.status, admin, now - dt.timedelta(days=60 - index))
        _spread(products, rng, now)
        _reports(products, admin)
        if index == 0:
            _stats(products, rng)
    db.session.flush()


# --- accounts and shops -------------------------------------------------------------------------


def _owner(index: int, spec: ShopSpec) -> User:
    email = f"umkm{index:02d}@demo.test"
    user = accounts.find_user_by_identifier(email)
    if user is None:
        user = accounts.register_user(
            full_name=spec.owner,
            email=email,
            phone=f"0813610001{index:02d}",
            password=DEMO_PASSWORD,
            consent=True,
        )
    return user


def _legality(index: int, profile: str) -> dict[str, Any]:
    """The legality numbers of a profile (food_full, food_pirt, food_old_pirt, food_bpom,
    herbal, cosmetic, nib, none), in valid formats, different for each shop."""
    nib = f"91201{(index * 7_919_573) % 10**8:08d}"
    pirt = f"2{10 + index % 80:02d}1207{(index * 3571) % 10**6:06d}"
    halal = f"ID1211000{(index * 104_729) % 10**8:08d}0825"
    none: dict[str, Any] = {"nib": None, "pirt_number": None, "halal_number": None,
                            "halal_expiry": None, "bpom_number": None}  # fmt: skip
    if profile == "food_full":
        return {**none, "nib": nib, "pirt_number": pirt + "29", "halal_number": halal,
                "halal_expiry": dt.date(2029, 8, 24)}  # fmt: skip
    if profile == "food_pirt":
        return {**none, "nib": nib, "pirt_number": pirt + "28"}
    if profile == "food_old_pirt":  # expired: no P-IRT badge any more
        return {**none, "pirt_number": pirt + "24"}
    if profile == "food_bpom":
        return {**none, "nib": nib, "halal_number": halal, "halal_expiry": dt.date(2030, 1, 15),
                "bpom_number": f"MD2{(index * 7_777_777) % 10**11:011d}"}  # fmt: skip
    if profile == "herbal":
        return {**none, "nib": nib, "halal_number": halal,
                "bpom_number": f"TR2{(index * 4_444_447) % 10**8:08d}"}  # fmt: skip
    if profile == "cosmetic":
        return {**none, "nib": nib, "bpom_number": f"NA18{(index * 5_555_557) % 10**9:09d}"}
    if profile == "nib":
        return {**none, "nib": nib}
    return none


def _address(desa_code: str, street: str) -> dict[str, Any]:
    desa = db.session.get(Desa, desa_code)
    assert desa is not None, desa_code
    return {
        "kecamatan_code": desa.kecamatan_code,
        "desa_code": desa_code,
        "street": street,
        "rt": None,
        "rw": None,
        "landmark": None,
        "latitude": None,
        "longitude": None,
    }


def _shop(
    index: int, spec: ShopSpec, owner: User, categories: dict[str, MallCategory], fonts: _Fonts
) -> Shop:
    category = categories[spec.category]
    description = spec.description or (
        f"{spec.name}: usaha {category.name.lower()} dari Deli Serdang. "
        "Pesan lewat WhatsApp, bisa diambil atau diantar."
    )
    shop = services.open_shop(
        owner,
        name=spec.name,
        owner_name=spec.owner if index else owner.full_name,
        description=description,
        category_id=category.id,
        whatsapp=owner.phone or f"0813610001{index:02d}",
        opening_hours=spec.hours,
        **_address(spec.desa, spec.street),
        **_legality(index, spec.legality),
    )
    if index % 3 != 2:  # most shops have a logo
        services.set_logo(shop, owner, _drawn(spec.name, spec.category, index, fonts, logo=True))
    return shop


def _move(shop: Shop, owner: User, status: ShopStatus, admin: User, at: dt.datetime) -> None:
    """Take the shop through the real steps to `status`; times from `at` on."""
    if status is ShopStatus.DRAFT:
        return
    services.submit_shop(shop, owner)
    shop.created_at = at - dt.timedelta(days=2)
    shop.submitted_at = at
    if status is ShopStatus.SUBMITTED:
        return
    if status is ShopStatus.CHANGES_REQUESTED:
        services.request_changes(
            shop,
            admin,
            "Foto logo belum ada dan alamat belum lengkap. Tambahkan logo dan nomor rumah, "
            "lalu ajukan kembali.",
        )
        return
    services.verify_shop(shop, admin)
    shop.verified_at = at + dt.timedelta(days=1)
    if status is ShopStatus.SUSPENDED:
        services.suspend_shop(
            shop,
            admin,
            "Beberapa pembeli melaporkan barang tidak dikirim setelah transfer. Toko ditangguhkan "
            "sampai pemilik datang ke Dinas Koperasi dan UKM.",
        )


# --- products -----------------------------------------------------------------------------------


def _products(
    shop: Shop,
    owner: User,
    spec: ShopSpec,
    category: MallCategory,
    count: int,
    rng: random.Random,
    fonts: _Fonts,
) -> list[Product]:
    items = CATALOGUE[spec.category]
    start = rng.randrange(len(items))
    chosen = [items[(start + i) % len(items)] for i in range(min(count, len(items)))]
    last = len(chosen) - 1  # the extras (reported listings) are always published
    chosen += spec.extra
    products = []
    for n, item in enumerate(chosen):
        product = services.save_product(shop, None, owner, **_product_data(item, category, rng))
        services.add_photo(product, owner, _drawn(item.name, spec.category, n, fonts))
        if n % 4 == 1:  # some products have a second photo
            services.add_photo(product, owner, _drawn(item.name, spec.category, n + 1, fonts))
        status = ProductStatus.PUBLISHED
        if n == last and rng.random() < 0.35:
            status = ProductStatus.DRAFT  # still being written
        elif n == 5 and rng.random() < 0.2:
            status = ProductStatus.HIDDEN  # taken down by its seller for now
        if status is not ProductStatus.DRAFT:
            services.set_product_status(product, owner, ProductStatus.PUBLISHED)
        if status is ProductStatus.HIDDEN:
            services.set_product_status(product, owner, ProductStatus.HIDDEN)
        products.append(product)
    return products


def _product_data(item: Item, category: MallCategory, rng: random.Random) -> dict[str, Any]:
    if item.price is None:
        kind, low, high = PriceKind.ASK, None, None
    elif isinstance(item.price, tuple):
        kind, (low, high) = PriceKind.RANGE, item.price
    else:
        kind, low, high = PriceKind.FIXED, item.price, None
    roll = rng.random()
    if item.preorder:
        availability = Availability.PREORDER
    elif roll < 0.1:
        availability = Availability.OUT_OF_STOCK
    elif roll < 0.18:
        availability = Availability.PREORDER
    else:
        availability = Availability.AVAILABLE
    return {
        "name": item.name,
        "category_id": category.id,
        "price_kind": kind,
        "price_min": low,
        "price_max": high,
        "unit": item.unit,
        "min_order": item.min_order,
        "availability": availability,
        "description": item.description,
        "ships_pickup": True,
        "ships_local": rng.random() < 0.7,
        "ships_national": item.ships_far and rng.random() < 0.5,
    }


def _spread(products: list[Product], rng: random.Random, now: dt.datetime) -> None:
    """Publication dates over the past seven weeks, so "newest" means something."""
    for product in products:
        when = now - dt.timedelta(days=rng.randrange(0, 50), minutes=rng.randrange(0, 1440))
        product.created_at = product.updated_at = when
        if product.published_at is not None:
            product.published_at = when


def _reports(products: list[Product], admin: User) -> None:
    for product in products:
        if product.name == REPORTED_ITEM.name:
            services.report_product(product, ReportReason.MISLEADING, REPORT_DETAIL, None)
        elif product.name == BLOCKED_ITEM.name:
            report = services.report_product(
                product, ReportReason.PROHIBITED, "Jamu kapsul tanpa nomor BPOM.", None
            )
            services.resolve_report(report, admin, ReportStatus.HIDDEN, BLOCKED_NOTE)


def _stats(products: list[Product], rng: random.Random) -> None:
    """Views and WhatsApp clicks over the last 30 days for the demo seller's dashboard."""
    today = today_wib()
    for product in products:
        if product.status is not ProductStatus.PUBLISHED:
            continue
        for days_ago in range(30):
            views = rng.randrange(0, 25)
            if views:
                db.session.add(
                    ProductStat(
                        product_id=product.id,
                        day=today - dt.timedelta(days=days_ago),
                        views=views,
                        wa_clicks=rng.randrange(0, max(1, views // 4)),
                    )
                )


# --- drawn photos -------------------------------------------------------------------------------


class _Fonts:
    def __init__(self) -> None:
        self.big = ImageFont.load_default(size=120)
        self.logo = ImageFont.load_default(size=96)
        self.small = ImageFont.load_default(size=24)


class _Bytes(io.BytesIO):
    """What `check_upload` reads: bytes with a file name."""

    filename = "contoh.jpg"


def _initials(name: str) -> str:
    words = [w for w in name.replace("(", " ").split() if w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _drawn(name: str, category: str, n: int, fonts: _Fonts, logo: bool = False) -> CheckedUpload:
    """A placeholder photo: the category's colour, a lighter shape, the initials, the name.

    Checked like any upload, so it is stored exactly as a seller's photo would be.
    """
    colour = COLOURS[category]
    light = tuple(min(255, c + 70) for c in colour)
    size = (LOGO_SIZE, LOGO_SIZE) if logo else PHOTO_SIZE
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    w, h = size
    box = (w * 0.18, h * 0.08, w * 0.82, h * 0.88) if not logo else (12, 12, w - 12, h - 12)
    shape = n % 3 if not logo else 0
    if shape == 0:
        draw.ellipse(box, fill=light)
    elif shape == 1:
        draw.rounded_rectangle(box, radius=36, fill=light)
    else:
        draw.polygon([(w / 2, box[1]), (box[2], box[3]), (box[0], box[3])], fill=light)
    font = fonts.logo if logo else fonts.big
    draw.text((w / 2, h * (0.5 if logo else 0.52)), _initials(name), font=font, fill="white",
              anchor="mm", stroke_width=2, stroke_fill=colour)  # fmt: skip
    if not logo:
        label = name if len(name) <= 34 else name[:33] + "…"
        draw.text((w / 2, h - 22), label, font=fonts.small, fill="white", anchor="mm")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)  # as a phone would send it; faster to check than PNG
    return check_upload(
        _Bytes(buf.getvalue()), field="photo", allowed=ALLOWED_PHOTO_KINDS, max_bytes=5 << 20
    )

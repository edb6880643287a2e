"""Word lists the synthetic marketplace is built from: places, brands, products, wording cues.

Everything here is fixed data (tuples, never sets or dicts iterated for output order), so the
generator's output depends only on the seed. Place names are real Chinese provinces, cities and
districts in pinyin; company, brand and street names are invented.
"""

from __future__ import annotations

# (province, city, city abbreviation, phone area code, districts, weight as a seller home,
#  weight as a counterfeit hotspot, weight as a buyer home)
CITIES: tuple[tuple[str, str, str, str, tuple[str, ...], float, float, float], ...] = (
    (
        "Guangdong",
        "Guangzhou",
        "GZ",
        "020",
        ("Baiyun", "Tianhe", "Yuexiu", "Haizhu", "Panyu"),
        8,
        10,
        6,
    ),
    (
        "Guangdong",
        "Shenzhen",
        "SZ",
        "0755",
        ("Futian", "Nanshan", "Luohu", "Bao'an", "Longgang"),
        8,
        7,
        6,
    ),
    ("Guangdong", "Dongguan", "DG", "0769", ("Humen", "Chang'an", "Houjie", "Dongcheng"), 3, 8, 2),
    ("Guangdong", "Shantou", "ST", "0754", ("Chaoyang", "Longhu", "Jinping"), 1, 4, 1),
    ("Guangdong", "Foshan", "FS", "0757", ("Nanhai", "Shunde", "Chancheng"), 2, 2, 2),
    ("Fujian", "Putian", "PT", "0594", ("Licheng", "Chengxiang", "Hanjiang", "Xiuyu"), 1, 12, 1),
    ("Fujian", "Quanzhou", "QZ", "0595", ("Jinjiang", "Shishi", "Fengze", "Licheng"), 2, 9, 1),
    ("Fujian", "Xiamen", "XM", "0592", ("Siming", "Huli", "Jimei"), 2, 1, 2),
    ("Fujian", "Fuzhou", "FZ", "0591", ("Gulou", "Taijiang", "Cangshan"), 2, 1, 2),
    ("Zhejiang", "Yiwu", "YW", "0579", ("Choucheng", "Futian", "Jiangdong", "Beiyuan"), 4, 9, 1),
    ("Zhejiang", "Hangzhou", "HZ", "0571", ("Xihu", "Shangcheng", "Gongshu", "Binjiang"), 8, 1, 5),
    ("Zhejiang", "Ningbo", "NB", "0574", ("Haishu", "Jiangbei", "Yinzhou"), 2, 1, 2),
    ("Zhejiang", "Wenzhou", "WZ", "0577", ("Lucheng", "Longwan", "Ouhai"), 2, 3, 2),
    ("Jiangsu", "Suzhou", "SUZ", "0512", ("Gusu", "Wuzhong", "Xiangcheng", "Kunshan"), 4, 1, 4),
    ("Jiangsu", "Nanjing", "NJ", "025", ("Xuanwu", "Qinhuai", "Jianye", "Gulou"), 3, 0, 4),
    ("Jiangsu", "Wuxi", "WX", "0510", ("Liangxi", "Binhu"), 2, 0, 2),
    (
        "Shanghai",
        "Shanghai",
        "SH",
        "021",
        ("Pudong", "Huangpu", "Jing'an", "Xuhui", "Minhang"),
        9,
        1,
        9,
    ),
    ("Beijing", "Beijing", "BJ", "010", ("Chaoyang", "Haidian", "Dongcheng", "Xicheng"), 7, 0, 9),
    ("Tianjin", "Tianjin", "TJ", "022", ("Heping", "Hexi", "Nankai"), 2, 0, 3),
    ("Chongqing", "Chongqing", "CQ", "023", ("Yuzhong", "Jiangbei", "Nan'an"), 2, 0, 4),
    ("Sichuan", "Chengdu", "CD", "028", ("Jinjiang", "Wuhou", "Qingyang", "Chenghua"), 3, 0, 5),
    ("Hubei", "Wuhan", "WH", "027", ("Jianghan", "Wuchang", "Hongshan"), 3, 0, 4),
    ("Shandong", "Qingdao", "QD", "0532", ("Shinan", "Laoshan", "Huangdao"), 2, 0, 3),
    ("Shandong", "Jinan", "JN", "0531", ("Lixia", "Shizhong"), 1, 0, 3),
    ("Henan", "Zhengzhou", "ZZ", "0371", ("Jinshui", "Zhongyuan", "Erqi"), 2, 0, 4),
    ("Hebei", "Shijiazhuang", "SJZ", "0311", ("Chang'an", "Qiaoxi"), 1, 0, 3),
    ("Hunan", "Changsha", "CS", "0731", ("Furong", "Yuelu", "Tianxin"), 2, 0, 3),
    ("Shaanxi", "Xi'an", "XA", "029", ("Yanta", "Beilin", "Lianhu"), 2, 0, 3),
    ("Liaoning", "Shenyang", "SY", "024", ("Heping", "Shenhe"), 1, 0, 3),
    ("Liaoning", "Dalian", "DL", "0411", ("Zhongshan", "Xigang"), 1, 0, 2),
    ("Anhui", "Hefei", "HF", "0551", ("Shushan", "Luyang"), 1, 0, 3),
    ("Jiangxi", "Nanchang", "NC", "0791", ("Donghu", "Xihu"), 1, 0, 2),
    ("Guangxi", "Nanning", "NN", "0771", ("Qingxiu", "Xingning"), 1, 0, 2),
    ("Yunnan", "Kunming", "KM", "0871", ("Wuhua", "Panlong"), 1, 0, 2),
    ("Heilongjiang", "Harbin", "HRB", "0451", ("Nangang", "Daoli"), 1, 0, 2),
)

#: Street names as pinyin syllable pairs, so addresses can be written "Jinhu" or "Jin Hu".
STREETS: tuple[tuple[str, str], ...] = (
    ("Jin", "hu"), ("Zhong", "shan"), ("Ren", "min"), ("Jie", "fang"), ("Jian", "she"),
    ("Xin", "hua"), ("Chang", "jiang"), ("Huang", "he"), ("Dong", "feng"), ("Hong", "qi"),
    ("Wen", "hua"), ("Bin", "jiang"), ("Heng", "shan"), ("Tai", "ping"), ("Yong", "an"),
    ("Fu", "qian"), ("Gong", "ye"), ("Shang", "mao"), ("Chang", "cheng"), ("Yan", "an"),
    ("Long", "hua"), ("Hua", "qiang"), ("Xing", "fu"), ("Jin", "sha"), ("Kai", "fa"),
    ("Guang", "ming"), ("Hai", "an"), ("Xue", "yuan"), ("Qing", "nian"), ("He", "ping"),
    ("Shi", "ji"), ("Bao", "li"), ("Feng", "huang"), ("Xiang", "yang"), ("Tian", "he"),
    ("Cui", "wei"), ("Jing", "tian"), ("Rui", "an"), ("Dong", "men"), ("Nan", "hu"),
)  # fmt: skip

#: (full word, abbreviation)
ROAD_TYPES: tuple[tuple[str, str], ...] = (("Road", "Rd."), ("Street", "St."), ("Avenue", "Ave."))

SURNAMES: tuple[str, ...] = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
    "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang",
    "Han", "Feng", "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai",
)  # fmt: skip
GIVEN_NAMES: tuple[str, ...] = (
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan",
    "Jie", "Tao", "Ming", "Chao", "Xiuying", "Xia", "Ping", "Gang", "Hui", "Jianguo", "Hong",
    "Jianhua", "Haiyan", "Yuting", "Zihan", "Haoran", "Xinyi", "Yuxuan", "Jiayi", "Zhiqiang",
)  # fmt: skip
EMAIL_DOMAINS: tuple[str, ...] = (
    "qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "gmail.com", "outlook.com",
    "139.com", "yeah.net",
)  # fmt: skip
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "158", "159", "166", "176", "177", "178", "180", "181", "186", "187", "188", "189",
    "191", "199",
)  # fmt: skip
BANKS: tuple[str, ...] = (
    "Industrial and Commercial Bank of China", "China Construction Bank", "Bank of China",
    "Agricultural Bank of China", "China Merchants Bank", "Bank of Communications",
    "China Minsheng Bank", "Ping An Bank", "Industrial Bank", "Postal Savings Bank of China",
)  # fmt: skip

#: Trade names of companies (factories, distributors) and the kinds of business they do.
COMPANY_WORDS: tuple[str, ...] = (
    "Xinda", "Hengtai", "Jinlong", "Huafeng", "Ruixiang", "Tianyi", "Baisheng", "Mingyang",
    "Yuanfeng", "Shunfa", "Kaida", "Longxin", "Fuxing", "Haoyun", "Jiahe", "Zhongxin",
    "Huamei", "Dongsheng", "Weiye", "Xinghui", "Hongtu", "Jinhui", "Yongsheng", "Lianfa",
    "Tengfei", "Boyuan", "Chuangyi", "Deli", "Guanghua", "Huaxin", "Jiali", "Meida",
)  # fmt: skip
FACTORY_TRADES: tuple[str, ...] = (
    "Trading", "Shoes", "Leather Goods", "Garment", "Cosmetics", "Electronics", "Watch",
    "Import & Export", "Bags",
)  # fmt: skip
DISTRIBUTOR_TRADES: tuple[str, ...] = (
    "Supply Chain Management", "Brand Management", "International Trade", "Commerce",
    "Distribution",
)  # fmt: skip

# (category, reference price range in CNY, products, noun, attributes, counterfeit appeal)
CATEGORIES: tuple[tuple[str, tuple[float, float], tuple[str, ...], str, tuple[str, ...], float], ...] = (
    ("sneakers", (500, 1600), ("Air Runner", "Court Classic", "Retro High", "Trail Pro", "Cloud Walk", "Street 90"),
     "sneakers", ("men's", "women's", "unisex", "2026 new", "white", "black", "limited edition"), 3.0),
    ("handbags", (2500, 22000), ("Classic Flap", "Tote", "Mini Saddle", "Bucket Bag", "Crossbody"),
     "handbag", ("genuine leather", "canvas", "large", "small", "with gift box", "black"), 3.0),
    ("watches", (1500, 60000), ("Chrono", "Diver 300", "Oyster Date", "Skeleton", "Moonphase"),
     "watch", ("automatic", "quartz", "stainless steel", "40mm", "sapphire glass"), 2.0),
    ("perfume", (400, 1500), ("Eau de Parfum", "Eau de Toilette", "No. 5", "Night Bloom", "Blue Oud"),
     "perfume", ("100ml", "50ml", "gift set", "for her", "for him"), 2.0),
    ("cosmetics", (150, 700), ("Lipstick", "Foundation", "Serum", "Cushion Compact", "Eyeshadow Palette"),
     "", ("long lasting", "matte", "travel size", "set of 3"), 2.0),
    ("sunglasses", (900, 3500), ("Aviator", "Wayfarer", "Cat Eye", "Round Metal"),
     "sunglasses", ("polarized", "UV400", "unisex", "with case"), 1.5),
    ("earbuds", (700, 1900), ("Pro", "Buds 3", "Air Max", "Sport"),
     "wireless earbuds", ("noise cancelling", "bluetooth 5.3", "with charging case"), 1.5),
    ("apparel", (300, 2500), ("Logo Hoodie", "T-shirt", "Down Jacket", "Polo Shirt", "Track Pants"),
     "", ("cotton", "oversize", "S-XXL", "2026 spring"), 1.2),
    ("belts", (1800, 5500), ("Reversible Belt", "Buckle Belt"),
     "belt", ("leather", "with gift box", "men's"), 1.0),
    ("toys", (100, 900), ("Building Set", "Collector Figure", "Plush"),
     "toy", ("ages 6+", "limited", "collector's edition"), 0.6),
    ("phone_accessories", (80, 500), ("Phone Case", "Charger 65W", "USB-C Cable", "Power Bank"),
     "", ("fast charging", "for iPhone", "magnetic"), 0.8),
    ("jewelry", (800, 30000), ("Bracelet", "Necklace", "Ring", "Earrings"),
     "", ("18K gold", "silver 925", "with box"), 1.5),
)  # fmt: skip
#: How common each category is among genuine sellers (same order as CATEGORIES).
CATEGORY_WEIGHTS: tuple[float, ...] = (3, 2, 1.5, 1.5, 2.5, 1, 1.5, 4, 0.7, 1.5, 2.5, 1)

BRAND_PREFIXES: tuple[str, ...] = (
    "Ar", "Bel", "Cor", "Del", "Elv", "Far", "Gio", "Hal", "Iv", "Jun", "Kas", "Lor", "Mar",
    "Nor", "Or", "Pel", "Quin", "Ros", "Sol", "Tav", "Ul", "Val", "Wes", "Xan", "Yor", "Zen",
    "Cal", "Dor", "Fen", "Lum", "Mir", "Sev", "Ver",
)  # fmt: skip
BRAND_SUFFIXES: tuple[str, ...] = (
    "ano", "vik", "elle", "ora", "ix", "ton", "essa", "ari", "ondo", "era", "um", "ley",
    "ane", "is", "eto", "ova",
)  # fmt: skip
HOLDER_SUFFIXES: tuple[str, ...] = (
    "Group Holdings Ltd.", "S.p.A.", "SA", "GmbH", "Inc.", "Co., Ltd.", "AG", "Brands plc",
)  # fmt: skip

# Shop names.
SHOP_WORDS: tuple[str, ...] = (
    "Happy", "Star", "Golden", "Sunny", "Urban", "Lucky", "Dragon", "Jade", "Lotus", "Panda",
    "Blue Sky", "Red Maple", "Silver", "Trendy", "Elite", "Prime", "Smart", "Fresh", "Cozy",
    "Orient", "Harbor", "Phoenix", "Peony", "Bamboo", "Pearl", "Crystal", "Aurora", "Nova",
)  # fmt: skip
SHOP_SUFFIXES: tuple[str, ...] = (
    "Store", "Shop", "Boutique", "Flagship Store", "Select", "House", "Studio", "Corner",
    "Trading", "Mall", "Overseas Buy", "Global Shop",
)  # fmt: skip
DISCOUNT_SUFFIXES: tuple[str, ...] = (
    "Outlet", "Discount House", "Clearance Store", "Factory Outlet", "Warehouse Sale",
)  # fmt: skip

# Wording cues in titles. Each cue has a weight per listing class; see ml/generate/listings.py.
CUES_EXPLICIT: tuple[str, ...] = (
    "1:1", "AAA", "replica", "mirror quality", "original quality", "top-grade copy",
    "high imitation", "same as original",
)  # fmt: skip
CUES_OBFUSCATED: tuple[str, ...] = (
    "r3plica", "1比1", "A A A", "rep1ica", "m1rror quality", "高仿", "1：1", "A货", "0riginal quality",
)  # fmt: skip
CUES_INNOCENT: tuple[str, ...] = ("factory direct", "original quality", "best price")
AUTHENTIC_CLAIMS: tuple[str, ...] = (
    "100% authentic",
    "100% genuine",
    "正品",
    "authentic guaranteed",
)

DESCRIPTIONS_GENUINE: tuple[str, ...] = (
    "Brand new with tags. Ships within 48 hours.",
    "Genuine product, 7-day no-reason return, SF Express shipping.",
    "Official packaging, invoice on request.",
    "In stock, ships from our warehouse, questions welcome.",
    "New season item, sizes as listed, please check the size chart.",
)  # fmt: skip
DESCRIPTIONS_AUTHORIZED: tuple[str, ...] = (
    "Authorized dealer, official invoice and warranty card included.",
    "Authorized retailer since 2019, every item checked and sealed.",
    "Official authorized store, serial number verifiable on the brand website.",
)  # fmt: skip
DESCRIPTIONS_DISCOUNT: tuple[str, ...] = (
    "Outlet stock from last season, genuine product, limited sizes.",
    "Clearance: display items, box may be damaged, product is genuine.",
    "Factory direct outlet price, genuine, no returns on sale items.",
    "Parallel import, lower price, no domestic warranty.",
)  # fmt: skip
DESCRIPTIONS_COUNTERFEIT: tuple[str, ...] = (
    "Same factory as the original, quality guaranteed, contact us for real photos.",
    "Top quality, cannot tell the difference from the original.",
    "Counter quality, comes without box, add WeChat for more styles.",
    "Made with original materials, 1:1 details, ships in discreet packaging.",
    "Export surplus, no receipt, all logos complete.",
    "Brand new, imported, 7-day return.",
    "High quality, fast shipping, many styles in stock.",
)  # fmt: skip

REVIEW_SHILL: tuple[str, ...] = (
    "good",
    "very good",
    "A+++",
    "nice",
    "5 stars",
    "好评",
    "great",
    "perfect",
)
REVIEW_POSITIVE: tuple[str, ...] = (
    "fast delivery, great quality",
    "same as in the mall, happy with it",
    "fits well, will buy again",
    "packaging was nice, seller answers quickly",
    "质量很好",
    "good value for money",
    "exactly as described",
    "my second purchase here, \"highly recommended\"",
)  # fmt: skip
REVIEW_NEUTRAL: tuple[str, ...] = (
    "ok for the price",
    "delivery took a while, product fine",
    "color a bit different from the picture",
    "size runs small, order one up",
    "average",
)  # fmt: skip
REVIEW_NEGATIVE_GENUINE: tuple[str, ...] = (
    "delivery very slow, box dented",
    "wrong size sent, seller slow to respond",
    "not worth the price",
    "color differs from picture, returned it",
    "smells a bit of glue, but seems genuine",
    "quality worse than I expected",
)  # fmt: skip
REVIEW_NEGATIVE_COUNTERFEIT: tuple[str, ...] = (
    "fake, the logo is crooked",
    "strong chemical smell",
    "not original, compared with the one from the official store",
    "假货, do not buy",
    "stitching is bad, clearly a fake",
    "serial number does not verify, not original",
    "smell is terrible, 有异味",
    "looks cheap, \"authentic\" my foot",
)  # fmt: skip

REPORT_TEXTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("counterfeit", (
        "Item received is counterfeit.",
        "Listing sells replicas of our registered product.",
        "Title advertises replica goods.",
        "Logo and packaging do not match the original.",
    )),
    ("ip_infringement", (
        "Unauthorized use of our trademark and product photos.",
        "Uses our copyrighted campaign images.",
    )),
    ("quality", (
        "Product quality much worse than described.",
        "Item broke after two days.",
        "Smells of chemicals, possibly unsafe.",
    )),
    ("misleading", (
        "Price too low to be genuine, listing says \"authentic\".",
        "Description claims official warranty, none provided.",
        "Photos do not show the item that was sent.",
    )),
    ("other", (
        "Seller asked to pay outside the platform.",
        "Seller is rude and refuses refunds.",
    )),
)  # fmt: skip

DECLARED_GENERIC: tuple[str, ...] = (
    "general merchandise",
    "textiles",
    "daily necessities",
    "samples",
)

HUB_NAMES: tuple[tuple[str, str], ...] = (
    # (name, short name) of logistics hubs: consolidation warehouses every kind of seller uses.
    ("International Logistics Park", "Logistics Park"),
    ("E-commerce Express Consolidation Center", "Express Center"),
    ("Cross-border Fulfillment Hub", "Fulfillment Hub"),
    ("Bonded Warehouse Service Center", "Bonded Warehouse"),
    ("Parcel Sorting Center", "Sorting Center"),
)  # fmt: skip
HUB_CITIES: tuple[str, ...] = ("Yiwu", "Guangzhou", "Shenzhen", "Dongguan", "Hangzhou")

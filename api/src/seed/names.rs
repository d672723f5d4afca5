//! Word lists for plausible Chinese names of people, places and businesses.

/// Common surnames, most frequent first (weights fall off along the list).
pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "罗", "高", "林", "龙", "潘", "吴", "杨", "石", "韦", "蒙", "姚", "田", "彭",
];

/// Characters for given names of men.
pub const MALE_GIVEN: &[&str] = &[
    "伟", "强", "军", "勇", "明", "华", "平", "刚", "林", "波", "国", "建", "志", "文", "海", "忠",
    "富", "贵", "福", "德", "成", "光", "荣", "宏", "新", "春", "永", "庆", "生", "发",
];

/// Characters for given names of women.
pub const FEMALE_GIVEN: &[&str] = &[
    "芳", "娟", "敏", "静", "丽", "艳", "霞", "红", "梅", "兰", "英", "秀", "珍", "玉", "花", "凤",
    "琴", "云", "莲", "翠", "妹", "燕", "萍", "娥", "菊", "桂", "芬", "春", "香", "美",
];

/// Syllables for place names.
pub const PLACE: &[&str] = &[
    "高", "岩", "平", "寨", "坝", "塘", "坡", "溪", "河", "山", "龙", "凤", "石", "水", "田", "桥",
    "林", "竹", "茶", "新", "光", "明", "金", "银", "沙", "洞", "阳", "云", "青", "松", "柳", "梨",
    "桃", "雷", "马", "牛", "羊", "鹅", "望", "乐",
];

/// Products of local characteristic industries.
pub const PRODUCTS: &[&str] = &[
    "茶叶",
    "食用菌",
    "中药材",
    "蔬菜",
    "精品水果",
    "生猪",
    "肉牛",
    "香猪",
    "稻鱼",
    "油茶",
    "刺梨",
    "竹",
    "蜂蜜",
    "土鸡",
];

/// County departments that implement projects.
pub const DEPARTMENTS: &[&str] = &[
    "县交通运输局",
    "县水务局",
    "县农业农村局",
    "县教育局",
    "县人力资源和社会保障局",
    "县住房和城乡建设局",
    "县扶贫开发办公室",
    "县供电局",
    "县林业局",
    "县发展和改革局",
];

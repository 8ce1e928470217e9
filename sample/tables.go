package sample

// The distribution tables behind the synthetic personas. They are shaped
// after public facts about Chinese e-commerce users (population by
// province, a user base that peaks at 25-34, a female majority, the 618
// and Singles' Day peaks) and are documented in sample/README.md.

// Province is a mainland province-level division with its GB/T 2260 code.
type Province struct {
	Name, Code, Region string
	// Weight: resident population (millions, 2020 census, rounded) times
	// an online-shopping intensity factor.
	Pop, Online float64
	// Dev is a development index in [0,1] that shifts the city-tier mix.
	Dev float64
}

// Provinces are the 31 mainland province-level divisions. Hong Kong,
// Macao and Taiwan are outside the licensed region and never appear.
var Provinces = []Province{
	{"北京", "110000", "华北", 21.9, 1.4, 1},
	{"天津", "120000", "华北", 13.9, 1.1, 0.8},
	{"河北", "130000", "华北", 74.6, 0.9, 0.35},
	{"山西", "140000", "华北", 34.9, 0.8, 0.3},
	{"内蒙古", "150000", "华北", 24.0, 0.7, 0.3},
	{"辽宁", "210000", "东北", 42.6, 0.9, 0.4},
	{"吉林", "220000", "东北", 24.1, 0.8, 0.3},
	{"黑龙江", "230000", "东北", 31.9, 0.8, 0.3},
	{"上海", "310000", "华东", 24.9, 1.5, 1},
	{"江苏", "320000", "华东", 84.7, 1.4, 0.65},
	{"浙江", "330000", "华东", 64.6, 1.7, 0.65},
	{"安徽", "340000", "华东", 61.0, 0.9, 0.35},
	{"福建", "350000", "华东", 41.5, 1.2, 0.5},
	{"江西", "360000", "华东", 45.2, 0.9, 0.3},
	{"山东", "370000", "华东", 101.5, 1.1, 0.45},
	{"河南", "410000", "华中", 99.4, 0.9, 0.35},
	{"湖北", "420000", "华中", 57.8, 1.0, 0.45},
	{"湖南", "430000", "华中", 66.4, 0.9, 0.35},
	{"广东", "440000", "华南", 126.0, 1.6, 0.7},
	{"广西", "450000", "华南", 50.1, 0.8, 0.25},
	{"海南", "460000", "华南", 10.1, 0.9, 0.3},
	{"重庆", "500000", "西南", 32.1, 1.0, 0.6},
	{"四川", "510000", "西南", 83.7, 1.0, 0.4},
	{"贵州", "520000", "西南", 38.6, 0.7, 0.2},
	{"云南", "530000", "西南", 47.2, 0.7, 0.2},
	{"西藏", "540000", "西南", 3.6, 0.3, 0.1},
	{"陕西", "610000", "西北", 39.5, 0.9, 0.4},
	{"甘肃", "620000", "西北", 25.0, 0.6, 0.2},
	{"青海", "630000", "西北", 5.9, 0.5, 0.15},
	{"宁夏", "640000", "西北", 7.2, 0.6, 0.2},
	{"新疆", "650000", "西北", 25.9, 0.6, 0.2},
}

// Regions are the seven customary geographic regions, in customary order.
var Regions = []string{"华东", "华南", "华北", "华中", "西南", "西北", "东北"}

// AgeBands are ordinal; AgeWeights peaks at 25-34.
var (
	AgeBands   = []string{"18-24", "25-29", "30-34", "35-39", "40-49", "50+"}
	AgeWeights = []float64{0.16, 0.20, 0.21, 0.15, 0.17, 0.11}
)

// Genders; the platform's buyers are about 56% women.
var Genders = []string{"女", "男"}

// CityTiers are ordinal, from the largest cities down.
var CityTiers = []string{"一线", "新一线", "二线", "三线", "四线", "五线"}

// MemberLevels are ordinal, from the entry level up.
var MemberLevels = []string{"普通会员", "白银会员", "黄金会员", "铂金会员", "钻石会员"}

// Devices the persona mostly shops on.
var Devices = []string{"安卓手机", "苹果手机", "电脑", "平板"}

// FrequencyBands bucket a persona's orders over the 12 months.
var FrequencyBands = []string{"低频(≤3单/年)", "中频(4-11单/年)", "高频(12-35单/年)", "超高频(≥36单/年)"}

// frequencyBand maps 12-month orders to an index into FrequencyBands.
func frequencyBand(orders int) int {
	switch {
	case orders <= 3:
		return 0
	case orders <= 11:
		return 1
	case orders <= 35:
		return 2
	}
	return 3
}

// Months are the 12 periods of the monthly series.
var Months = []string{"2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06",
	"2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12"}

// Seasonality multiplies the monthly order rate: Spring Festival in late
// January and a February lull, 618 in June, Singles' Day (11.11) in
// November and 12.12 in December.
var Seasonality = []float64{1.05, 0.80, 0.95, 0.95, 1.05, 1.70, 0.90, 0.90, 0.95, 1.05, 2.10, 1.20}

// Category is a preferred product category with how likely a persona is
// to prefer it, by gender (女, 男) and by age band.
type Category struct {
	Name   string
	Base   float64
	Gender [2]float64
	Age    [6]float64
	Basket float64 // mean spend per order (元) when the persona prefers it
}

// Categories: preference depends on gender and age.
var Categories = []Category{
	{"服饰", 0.45, [2]float64{1.30, 0.80}, [6]float64{1.15, 1.15, 1.05, 1.0, 0.9, 0.8}, 180},
	{"美妆", 0.30, [2]float64{1.90, 0.25}, [6]float64{1.2, 1.25, 1.2, 1.0, 0.8, 0.5}, 220},
	{"数码", 0.28, [2]float64{0.55, 1.70}, [6]float64{1.3, 1.3, 1.1, 1.0, 0.8, 0.6}, 900},
	{"家电", 0.18, [2]float64{0.90, 1.15}, [6]float64{0.5, 0.9, 1.3, 1.4, 1.4, 1.1}, 1300},
	{"母婴", 0.12, [2]float64{1.60, 0.50}, [6]float64{0.3, 1.8, 2.2, 1.2, 0.5, 0.2}, 260},
	{"食品", 0.40, [2]float64{1.05, 0.95}, [6]float64{0.9, 1.0, 1.0, 1.0, 1.1, 1.25}, 90},
	{"运动户外", 0.18, [2]float64{0.75, 1.40}, [6]float64{1.25, 1.2, 1.1, 1.0, 0.9, 0.7}, 320},
	{"家居", 0.22, [2]float64{1.10, 0.90}, [6]float64{0.6, 1.0, 1.3, 1.3, 1.2, 1.0}, 260},
	{"图书", 0.12, [2]float64{1.05, 0.95}, [6]float64{1.4, 1.0, 1.0, 1.2, 1.2, 0.9}, 70},
	{"宠物", 0.10, [2]float64{1.30, 0.70}, [6]float64{1.4, 1.4, 1.2, 0.9, 0.7, 0.5}, 150},
	{"个护", 0.25, [2]float64{1.20, 0.80}, [6]float64{1.0, 1.1, 1.1, 1.0, 0.9, 0.9}, 110},
	{"汽车用品", 0.07, [2]float64{0.45, 2.00}, [6]float64{0.5, 0.9, 1.4, 1.5, 1.4, 0.8}, 350},
}

// PageTypes are the kinds of page a persona browses (never URLs), with a
// base probability of browsing each.
var PageTypes = []struct {
	Name string
	Base float64
}{
	{"首页", 0.95},
	{"搜索", 0.75},
	{"商品详情", 0.85},
	{"直播间", 0.35},
	{"购物车", 0.55},
	{"活动会场", 0.30},
	{"店铺", 0.40},
	{"内容种草", 0.30},
}

// Exposure values of the campaign dimension.
var Exposures = []string{"未曝光", "已曝光"}

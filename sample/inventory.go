package sample

import "github.com/persona-workbench/persona/engine/inventory"

// TableName is the name of the personas table and its Parquet file's stem.
const TableName = "personas"

// Inventory returns the field inventory of a generated sample.
func Inventory(rows int64, seed uint64) *inventory.Inventory {
	l := func(zh, en string) inventory.Label { return inventory.Label{ZH: zh, EN: en} }
	dim := func(name string, label, desc inventory.Label, order []string) inventory.Field {
		return inventory.Field{Name: name, Label: label, Role: inventory.Dimension, Type: "VARCHAR", Order: order, Description: desc}
	}
	geo := func(f inventory.Field, kind string) inventory.Field {
		f.Geo = kind
		return f
	}
	return &inventory.Inventory{
		Version: inventory.Version,
		Dataset: l("合成电商用户画像（演示数据）", "Synthetic e-commerce personas (demo data)"),
		Table:   TableName,
		Files:   partNames(rows),
		Records: rows,
		Seed:    &seed,
		Fields: []inventory.Field{
			dim("age_band", l("年龄段", "Age band"), l("用户所在年龄段", "The persona's age band"), AgeBands),
			dim("gender", l("性别", "Gender"), l("性别", "Gender"), nil),
			geo(dim("province", l("省份", "Province"), l("省级行政区（中国大陆31个）", "Province-level division (31, mainland China)"), nil), "province"),
			geo(dim("province_code", l("省份代码", "Province code"), l("GB/T 2260 省级行政区划代码", "GB/T 2260 province code"), nil), "province_code"),
			geo(dim("region", l("地区", "Region"), l("地理大区", "Geographic region"), nil), "region"),
			dim("city_tier", l("城市等级", "City tier"), l("常住城市等级", "Tier of the city of residence"), CityTiers),
			dim("member_level", l("会员等级", "Member level"), l("平台会员等级", "Platform membership level"), MemberLevels),
			dim("device", l("常用设备", "Device"), l("主要购物设备", "Device used most for shopping"), nil),
			dim("purchase_frequency", l("购买频次", "Purchase frequency"), l("近12个月下单次数分档", "Orders over the 12 months, banded"), FrequencyBands),
			{Name: "categories", Label: l("偏好品类", "Preferred categories"), Role: inventory.MultiDimension, Type: "VARCHAR[]",
				Description: l("偏好的商品品类（多值）", "Preferred product categories (multi-valued)")},
			{Name: "page_types", Label: l("浏览页面类型", "Browsed page types"), Role: inventory.MultiDimension, Type: "VARCHAR[]",
				Description: l("浏览过的页面类型（多值，不含网址）", "Kinds of page browsed (multi-valued, never URLs)")},
			{Name: "month", Label: l("月份", "Month"), Role: inventory.Time, Type: "VARCHAR", Order: Months,
				Description: l("月度序列的月份", "Month of the monthly series")},
			dim("campaign_exposure", l("活动曝光", "Campaign exposure"), l("是否曝光于品牌活动", "Whether the persona saw the brand's campaign"), Exposures),
			{Name: "monthly_orders", Label: l("订单数", "Orders"), Role: inventory.Measure, Type: "INTEGER[]", Series: "month", Unit: "单",
				Description: l("每月订单数", "Orders per month")},
			{Name: "monthly_gmv", Label: l("成交额", "GMV"), Role: inventory.Measure, Type: "DOUBLE[]", Series: "month", Unit: "元",
				Description: l("每月成交额（GMV）", "Gross merchandise value per month")},
			{Name: "campaign_converted", Label: l("活动转化", "Converted"), Role: inventory.Measure, Type: "BOOLEAN",
				Description: l("活动期内是否购买品牌商品", "Whether the persona bought the brand during the campaign")},
		},
		Measures: []inventory.MeasureDef{
			{Name: "people", Label: l("人数", "People"), Kind: inventory.Count, Unit: "人"},
			{Name: "orders", Label: l("订单数", "Orders"), Kind: inventory.Sum, Field: "monthly_orders", Unit: "单"},
			{Name: "gmv", Label: l("成交额", "GMV"), Kind: inventory.Sum, Field: "monthly_gmv", Unit: "元", Decimals: 0},
			{Name: "aov", Label: l("客单价", "Average order value"), Kind: inventory.Ratio, Field: "monthly_gmv", Over: "monthly_orders", Unit: "元", Decimals: 2},
			{Name: "gmv_per_person", Label: l("人均成交额", "GMV per person"), Kind: inventory.Mean, Field: "monthly_gmv", Unit: "元", Decimals: 2},
			{Name: "conversion_rate", Label: l("转化率", "Conversion rate"), Kind: inventory.Share, Field: "campaign_converted", Decimals: 2, Percent: true},
		},
	}
}

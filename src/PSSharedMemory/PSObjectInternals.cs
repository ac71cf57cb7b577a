using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Reflection;

namespace PSSharedMemory
{
    /// <summary>
    /// The PSObject state PSSerializer works with that the public API hides or only reaches at a price. The fast
    /// CliXml writer reads it to tell, cheaply and exactly, a plain value from one PSSerializer would write
    /// differently: the members and type names PowerShell keeps for a value apart from any wrapper (added through
    /// another wrapper of the same value), a wrapper's own type names without copying them, the text a wrapper
    /// shows instead of its value, and whether a member is serialized. The fast reader builds deserialized
    /// objects as PSSerializer does: it gives each its own copy of the type names and adds notes straight to its
    /// members, where the public API would copy both again. Everything is bound once; when this PowerShell lacks
    /// any of it, <see cref="Available"/> is false and the fast writer and reader leave every payload to PSSerializer.
    /// </summary>
    internal static class PSObjectInternals
    {
        private static readonly Func<object, PSMemberInfoCollection<PSMemberInfo>?>? s_instanceMembers;
        private static readonly Func<object, bool>? s_hasInstanceTypeNames;
        private static readonly Func<PSObject, Collection<string>>? s_typeNames;
        private static readonly Func<PSObject, string?>? s_tokenText;
        private static readonly Func<PSObject, string?>? s_toStringFromDeserialization;
        private static readonly Func<PSObject, bool>? s_isDeserialized;
        private static readonly Func<PSMemberInfo, bool>? s_shouldSerialize;
        private static readonly Func<string[], object>? s_newTypeNames;
        private static readonly Action<PSObject, object>? s_setTypeNamesCopy;
        private static readonly Action<PSObject, PSMemberInfo>? s_addInstanceMember;
        private static readonly Action<string>? s_noteInstanceMember;
        private static readonly Action<PSObject, string>? s_setDeserializedText;
        private static readonly Action<PSObject, object, bool>? s_setBase;

        static PSObjectInternals()
        {
            try
            {
                const BindingFlags Static = BindingFlags.NonPublic | BindingFlags.Static;
                const BindingFlags Instance = BindingFlags.NonPublic | BindingFlags.Instance;
                Type type = typeof(PSObject);
                s_instanceMembers = BindOutCall<PSMemberInfoCollection<PSMemberInfo>>(type.GetMethod("HasInstanceMembers", Static));
                Func<object, object?>? typeNames = BindOutCall<object>(type.GetMethod("HasInstanceTypeName", Static));
                s_hasInstanceTypeNames = typeNames is null ? null : value => typeNames(value) is not null;
                s_typeNames = BindGetter<PSObject, Collection<string>>(type.GetProperty("InternalTypeNames", Instance));
                s_tokenText = BindGetter<PSObject, string?>(type.GetProperty("TokenText", Instance));
                s_toStringFromDeserialization = BindGetter<PSObject, string?>(type.GetProperty("ToStringFromDeserialization", Instance));
                s_isDeserialized = BindGetter<PSObject, bool>(type.GetProperty("IsDeserialized", Instance));
                s_shouldSerialize = BindGetter<PSMemberInfo, bool>(typeof(PSMemberInfo).GetProperty("ShouldSerialize", Instance));
                BindTypeNames(type.GetProperty("InternalTypeNames", Instance), out s_newTypeNames, out s_setTypeNamesCopy);
                s_addInstanceMember = BindAddInstanceMember(type.GetProperty("InstanceMembers", Instance));
                Type? binder = type.Assembly.GetType("System.Management.Automation.Language.PSGetMemberBinder");
                MethodInfo? note = binder?.GetMethod("SetHasInstanceMember", Static, null, new[] { typeof(string) }, null);
                s_noteInstanceMember = note is null ? null : (Action<string>)Delegate.CreateDelegate(typeof(Action<string>), note);
                s_setDeserializedText = BindSetDeserializedText(type);
                s_setBase = BindSetBase(type.GetMethod("SetCoreOnDeserialization", Instance, null, new[] { typeof(object), typeof(bool) }, null));
            }
            catch (Exception e) when (e is ArgumentException || e is InvalidOperationException || e is MemberAccessException || e is AmbiguousMatchException || e is NotSupportedException)
            {
                s_instanceMembers = null;
            }
        }

        /// <summary>True when every view below is bound.</summary>
        public static bool Available =>
            s_instanceMembers is not null && s_hasInstanceTypeNames is not null && s_typeNames is not null
            && s_tokenText is not null && s_toStringFromDeserialization is not null && s_isDeserialized is not null
            && s_shouldSerialize is not null && s_newTypeNames is not null && s_setTypeNamesCopy is not null
            && s_addInstanceMember is not null && s_noteInstanceMember is not null;

        /// <summary>
        /// The instance members (notes, script properties...) of a wrapper, or those PowerShell keeps for a
        /// value that is not wrapped; null when there are none. Never creates an empty collection.
        /// </summary>
        public static PSMemberInfoCollection<PSMemberInfo>? InstanceMembers(object value) => s_instanceMembers!(value);

        /// <summary>Whether PowerShell keeps changed type names for this value (outside any wrapper).</summary>
        public static bool HasInstanceTypeNames(object value) => s_hasInstanceTypeNames!(value);

        /// <summary>A wrapper's type names as they are, without the copy the public TypeNames makes.</summary>
        public static Collection<string> TypeNames(PSObject value) => s_typeNames!(value);

        /// <summary>
        /// Whether a wrapper carries what PSSerializer writes besides its value and members: the text it shows in
        /// place of its value (a number's literal, a deserialized ToString), or deserialized adapted properties.
        /// </summary>
        public static bool HasDeserializerState(PSObject value) =>
            s_tokenText!(value) is not null || s_toStringFromDeserialization!(value) is not null || s_isDeserialized!(value);

        /// <summary>
        /// Whether PSSerializer writes this member of an object's own (false for the members PowerShell adds to every
        /// object whose members were looked at: psobject, psbase, psextended, psadapted and pstypenames).
        /// </summary>
        public static bool ShouldSerialize(PSMemberInfo member) => s_shouldSerialize!(member);

        /// <summary>
        /// True when <see cref="SetDeserializedText"/> and <see cref="SetBase"/> are bound too: the fast reader then
        /// builds objects with a ToString and a value (deserialized enums), and values with notes.
        /// </summary>
        public static bool CanBuildValues => Available && s_setDeserializedText is not null && s_setBase is not null;

        /// <summary>
        /// What PSSerializer does with an object's &lt;ToString&gt;: keeps the text as the object's ToString (with a
        /// ToString method of its own) and as its literal text. Call <see cref="NoteInstanceMember"/> for "ToString" once per read.
        /// </summary>
        public static void SetDeserializedText(PSObject value, string text) => s_setDeserializedText!(value, text);

        /// <summary>What PSSerializer does with the value of an object it built empty: makes it the base object.</summary>
        public static void SetBase(PSObject value, object baseObject, bool takeItsTypeNames) => s_setBase!(value, baseObject, takeItsTypeNames);

        /// <summary>A type name list in PowerShell's own form, to give objects copies of with <see cref="SetTypeNames"/>.</summary>
        public static object NewTypeNames(string[] names) => s_newTypeNames!(names);

        /// <summary>Gives <paramref name="value"/> its own copy of <paramref name="typeNames"/> (from <see cref="NewTypeNames"/>).</summary>
        public static void SetTypeNames(PSObject value, object typeNames) => s_setTypeNamesCopy!(value, typeNames);

        /// <summary>
        /// Adds a note to an object's own members as PSSerializer does: as it is, replacing one of the same name.
        /// Call <see cref="NoteInstanceMember"/> for its name once per read.
        /// </summary>
        public static void AddInstanceMember(PSObject value, PSMemberInfo member) => s_addInstanceMember!(value, member);

        /// <summary>Tells PowerShell's member binders that objects now have an instance member of this name.</summary>
        public static void NoteInstanceMember(string name) => s_noteInstanceMember!(name);

        // names => new ConsolidatedString(names), and (value, template) => value.InternalTypeNames = new ConsolidatedString(template)
        private static void BindTypeNames(PropertyInfo? property, out Func<string[], object>? create, out Action<PSObject, object>? setCopy)
        {
            create = null;
            setCopy = null;
            Type? type = property?.PropertyType;
            ConstructorInfo? fromNames = type?.GetConstructor(new[] { typeof(IEnumerable<string>) });
            ConstructorInfo? copy = type?.GetConstructor(new[] { type });
            if (property?.GetSetMethod(nonPublic: true) is null || fromNames is null || copy is null)
            {
                return;
            }

            ParameterExpression names = Expression.Parameter(typeof(string[]), "names");
            create = Expression.Lambda<Func<string[], object>>(Expression.New(fromNames, names), names).Compile();
            ParameterExpression value = Expression.Parameter(typeof(PSObject), "value");
            ParameterExpression template = Expression.Parameter(typeof(object), "template");
            setCopy = Expression.Lambda<Action<PSObject, object>>(
                Expression.Assign(Expression.Property(value, property!), Expression.New(copy, Expression.Convert(template, type!))),
                value,
                template).Compile();
        }

        // (value, member) => value.InstanceMembers.Add(member)
        private static Action<PSObject, PSMemberInfo>? BindAddInstanceMember(PropertyInfo? property)
        {
            MethodInfo? add = property?.PropertyType.GetMethod("Add", new[] { typeof(PSMemberInfo) });
            if (property?.GetGetMethod(nonPublic: true) is null || add is null)
            {
                return null;
            }

            ParameterExpression value = Expression.Parameter(typeof(PSObject), "value");
            ParameterExpression member = Expression.Parameter(typeof(PSMemberInfo), "member");
            return Expression.Lambda<Action<PSObject, PSMemberInfo>>(Expression.Call(Expression.Property(value, property!), add, member), value, member).Compile();
        }

        // (value, text) => { value.ToStringFromDeserialization = text;
        //     value.InstanceMembers.Add(PSObject.DotNetInstanceAdapter.GetDotNetMethod<PSMemberInfo>(value, "ToString"));
        //     value.TokenText = text; }
        private static Action<PSObject, string>? BindSetDeserializedText(Type type)
        {
            const BindingFlags Static = BindingFlags.NonPublic | BindingFlags.Static;
            const BindingFlags Instance = BindingFlags.NonPublic | BindingFlags.Instance;
            PropertyInfo? toString = type.GetProperty("ToStringFromDeserialization", Instance);
            PropertyInfo? tokenText = type.GetProperty("TokenText", Instance);
            PropertyInfo? members = type.GetProperty("InstanceMembers", Instance);
            MemberInfo? adapter = (MemberInfo?)type.GetProperty("DotNetInstanceAdapter", Static) ?? type.GetField("DotNetInstanceAdapter", Static);
            Type? adapterType = (adapter as PropertyInfo)?.PropertyType ?? (adapter as FieldInfo)?.FieldType;
            MethodInfo? getMethod = adapterType?.GetMethod("GetDotNetMethod", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance, null, new[] { typeof(object), typeof(string) }, null);
            MethodInfo? add = members?.PropertyType.GetMethod("Add", new[] { typeof(PSMemberInfo) });
            if (toString?.GetSetMethod(nonPublic: true) is null || tokenText?.GetSetMethod(nonPublic: true) is null
                || adapter is null || getMethod is null || !getMethod.IsGenericMethodDefinition || add is null)
            {
                return null;
            }

            ParameterExpression value = Expression.Parameter(typeof(PSObject), "value");
            ParameterExpression text = Expression.Parameter(typeof(string), "text");
            Expression adapterValue = adapter is PropertyInfo property ? Expression.Property(null, property) : Expression.Field(null, (FieldInfo)adapter);
            Expression method = Expression.Call(adapterValue, getMethod.MakeGenericMethod(typeof(PSMemberInfo)), value, Expression.Constant("ToString"));
            Expression body = Expression.Block(
                Expression.Assign(Expression.Property(value, toString), text),
                Expression.Call(Expression.Property(value, members!), add, method),
                Expression.Assign(Expression.Property(value, tokenText), text));
            return Expression.Lambda<Action<PSObject, string>>(body, value, text).Compile();
        }

        // (value, baseObject, takeItsTypeNames) => value.SetCoreOnDeserialization(baseObject, takeItsTypeNames)
        private static Action<PSObject, object, bool>? BindSetBase(MethodInfo? method)
        {
            if (method is null)
            {
                return null;
            }

            ParameterExpression value = Expression.Parameter(typeof(PSObject), "value");
            ParameterExpression baseObject = Expression.Parameter(typeof(object), "baseObject");
            ParameterExpression takeItsTypeNames = Expression.Parameter(typeof(bool), "takeItsTypeNames");
            return Expression.Lambda<Action<PSObject, object, bool>>(Expression.Call(value, method, baseObject, takeItsTypeNames), value, baseObject, takeItsTypeNames).Compile();
        }

        // (object value) => Method(value, out T result) ? result : null
        private static Func<object, T?>? BindOutCall<T>(MethodInfo? method)
            where T : class
        {
            ParameterInfo[]? parameters = method?.GetParameters();
            if (method is null || method.ReturnType != typeof(bool) || parameters!.Length != 2
                || parameters[0].ParameterType != typeof(object) || !parameters[1].IsOut
                || !typeof(T).IsAssignableFrom(parameters[1].ParameterType.GetElementType()))
            {
                return null;
            }

            ParameterExpression value = Expression.Parameter(typeof(object), "value");
            ParameterExpression result = Expression.Variable(parameters[1].ParameterType.GetElementType()!, "result");
            Expression body = Expression.Block(
                new[] { result },
                Expression.Condition(
                    Expression.Call(method, value, result),
                    Expression.Convert(result, typeof(T)),
                    Expression.Constant(null, typeof(T))));
            return Expression.Lambda<Func<object, T?>>(body, value).Compile();
        }

        private static Func<TOwner, T>? BindGetter<TOwner, T>(PropertyInfo? property)
        {
            MethodInfo? getter = property?.GetGetMethod(nonPublic: true);
            if (getter is null || !typeof(T).IsAssignableFrom(property!.PropertyType))
            {
                return null;
            }

            ParameterExpression value = Expression.Parameter(typeof(TOwner), "value");
            return Expression.Lambda<Func<TOwner, T>>(Expression.Convert(Expression.Property(value, property), typeof(T)), value).Compile();
        }
    }
}
